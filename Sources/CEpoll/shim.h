// epoll(7), which Glibc's Swift module map leaves out; the benchmark's watch fan-in reads many sockets with it.
#include <sys/epoll.h>
