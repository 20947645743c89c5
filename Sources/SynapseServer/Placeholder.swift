import Synapse
