/* Internals shared by the gRPC client files (cli.c, cli_stream.c). */
#ifndef HOSO_CLI_INT_H
#define HOSO_CLI_INT_H

#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include "cli.h"

/* A call on the channel, bound to cq (cli_call_raw, cli_stream_open). */
grpc_call *cli_create_call(cli_chan *c, grpc_completion_queue *cq, grpc_slice method, gpr_timespec deadline);

#endif
