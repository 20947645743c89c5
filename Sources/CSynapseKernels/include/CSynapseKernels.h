// Everything CSynapseKernels offers to Swift (`import CSynapseKernels`).
#include "synapse_cpu.h"
#include "synapse_gemm.h"
#include "synapse_int8.h"
#include "synapse_optim.h"
#include "synapse_vector_math.h"
#include "synapse_ggml.h"
#include "synapse_team.h"
#include "synapse_attention.h"
