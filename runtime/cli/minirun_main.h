/* The minirun CLI as a function, so that one binary can carry it: `minirun` itself, and the shim,
 * which runs it when started under the name "minirun" (the embedded runtime). */
#ifndef MINIRUN_MAIN_H
#define MINIRUN_MAIN_H

/* Parses the runc-compatible command line and runs the command; returns the exit code. */
int minirun_main(int argc, char **argv);

#endif
