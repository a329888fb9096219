/* MPI transport of the PBT search. See search_mpi.h. */
#include "search_mpi.h"
#include <stdlib.h>

int search_mpi_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

#ifdef ND_HAVE_MPI
#include <mpi.h>
#include <string.h>

int search_mpi_available(void) { return 1; }

int search_mpi_init(int *rank, int *size) {
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return 1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

void search_mpi_finalize(void) { MPI_Finalize(); }

void search_mpi_bcast(int *ints, int ni, double *doubles, int nd) {
    if (ni > 0) MPI_Bcast(ints, ni, MPI_INT, 0, MPI_COMM_WORLD);
    if (nd > 0) MPI_Bcast(doubles, nd, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

void search_mpi_reduce_max(int *v, int n) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) MPI_Reduce(MPI_IN_PLACE, v, n, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
    else MPI_Reduce(v, NULL, n, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
}
#else
int search_mpi_available(void) { return 0; }
int search_mpi_init(int *rank, int *size) { *rank = 0; *size = 1; return 1; }
void search_mpi_finalize(void) {}
void search_mpi_bcast(int *ints, int ni, double *doubles, int nd) { (void)ints; (void)ni; (void)doubles; (void)nd; }
void search_mpi_reduce_max(int *v, int n) { (void)v; (void)n; }
#endif
