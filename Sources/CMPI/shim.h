// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, …) are macros that cast the
// address of a global: Swift cannot import them, so these getters hand them over.
#include <mpi.h>

static inline MPI_Comm zoo_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype zoo_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype zoo_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype zoo_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op zoo_mpi_sum(void) { return MPI_SUM; }
static inline void *zoo_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int zoo_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int zoo_mpi_success(void) { return MPI_SUCCESS; }
