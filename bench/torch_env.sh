# bench/torch_env.sh: sourced by the benchmark scripts that time PyTorch (run.sh,
# bench_eval.sh). torch_malloc: the environment PyTorch runs in. By default glibc hands
# every freed buffer above its mmap threshold back to the kernel, so each PyTorch step
# page-faults its large activations in again; this made PyTorch's CIFAR-net training
# 1.7-2.3x slower here (bench/README.md, session 13). M_MMAP_THRESHOLD at glibc's
# largest (32 MiB): buffers below it come from the heap; M_TRIM_THRESHOLD 16 GiB: the
# heap is not trimmed after each step. What PyTorch's CPU tuning advice (a caching
# allocator) buys, without another package. lir allocates its buffers once per run.
torch_malloc=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184)
