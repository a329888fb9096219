/* The MPI transport of `neurodyn search` (src/cli/search_mpi.c). It is compiled with MPI (-DND_HAVE_MPI and
 * mpicc's include path) when the Makefile finds Debian's OpenMPI; otherwise the functions are stubs and
 * search_mpi_available() is 0. */
#ifndef ND_CLI_SEARCH_MPI_H
#define ND_CLI_SEARCH_MPI_H

int search_mpi_available(void);
/* 1 when the environment says this process was started by mpirun/mpiexec */
int search_mpi_launched(void);
/* MPI_Init; 0 on success */
int search_mpi_init(int *rank, int *size);
void search_mpi_finalize(void);
/* broadcast from rank 0: ints[0..ni) then doubles[0..nd) */
void search_mpi_bcast(int *ints, int ni, double *doubles, int nd);
/* element-wise maximum of v[0..n) over the ranks, result on rank 0 */
void search_mpi_reduce_max(int *v, int n);

#endif
