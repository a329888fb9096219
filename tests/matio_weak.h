/* For tests that write MATLAB v5 files through libmatio: HAVE_MATIO_H when the header exists, and LINKED(f)
 * says whether libmatio's function f is there. Without ND_HAVE_LIBMATIO the test links without -lmatio, the
 * writer's functions are weak, and the v5 cases skip. */
#ifndef ND_TESTS_MATIO_WEAK_H
#define ND_TESTS_MATIO_WEAK_H
#if defined(__has_include)
#if __has_include(<matio.h>)
#include <matio.h>
#define HAVE_MATIO_H 1
#ifndef ND_HAVE_LIBMATIO
#pragma weak Mat_CreateVer
#pragma weak Mat_VarCreate
#pragma weak Mat_VarCreateStruct
#pragma weak Mat_VarSetStructFieldByName
#pragma weak Mat_VarWrite
#pragma weak Mat_VarFree
#pragma weak Mat_Close
#define LINKED(f) ((f) != NULL)
#else
#define LINKED(f) 1
#endif
#endif
#endif
#endif
