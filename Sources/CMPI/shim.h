// Open MPI's handles are macros over global objects (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE), which Swift
// cannot import; these functions hand them over. Everything else in mpi.h imports as it is.
#include <mpi.h>

static inline MPI_Comm synapse_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype synapse_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype synapse_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype synapse_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Op synapse_mpi_sum(void) { return MPI_SUM; }
static inline void *synapse_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request synapse_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *synapse_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler synapse_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
