#!/usr/bin/env python3
"""Device memory bandwidth through PyTorch: a large device-to-device copy (and a read-only reduction as a cross-check).

    python3 tools/gpu-bench/bandwidth.py --json OUT.json [--gib 4] [--reps 20] [--device cuda]

Copy: dst.copy_(src) on two float32 buffers of --gib GiB each, timed with CUDA events, after warm-up. It reports
GB/s (10^9 bytes/s) counting the bytes read plus the bytes written (2 x size per copy), and half of that (the
"read-only" convention, size per copy). Read: src.sum() over the same buffer, which reads size bytes and writes
nothing. Best (fastest) and median of --reps runs each. See README.md for which one the roofline uses.
"""
import argparse, json, statistics, sys, time


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] bandwidth: {msg}", file=sys.stderr, flush=True)


def timed(torch, fn, reps, cuda, warmup=3):
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        if not cuda:  # --device cpu: only for checking this script without a GPU
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
            continue
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--gib", type=float, default=4.0)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--device", default="cuda", help="cuda; cpu only checks the script")
    a = ap.parse_args()

    import torch
    cuda = a.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit("bandwidth: no CUDA device")
    if cuda:
        dev = torch.cuda.get_device_properties(0)
        name, sms, total = dev.name, dev.multi_processor_count, dev.total_memory
    else:
        name, sms, total = "cpu", 0, 0
    n = int(a.gib * 2**30) // 4
    size = n * 4
    log(f"{name}, {sms} SMs, {total / 2**30:.1f} GiB; buffers 2 x {size / 2**30:.2f} GiB")
    src = torch.rand(n, dtype=torch.float32, device=a.device)  # random data, never zeros
    dst = torch.empty_like(src)

    copy_t = timed(torch, lambda: dst.copy_(src), a.reps, cuda)
    if not torch.equal(dst[:: 1 << 20], src[:: 1 << 20]):
        raise SystemExit("bandwidth: the copy did not copy")
    sink = torch.empty((), dtype=torch.float32, device=a.device)
    read_t = timed(torch, lambda: torch.sum(src, 0, out=sink), a.reps, cuda)

    best, med = min(copy_t), statistics.median(copy_t)
    rbest, rmed = min(read_t), statistics.median(read_t)
    result = {
        "device": name, "sms": sms, "total_memory_bytes": total,
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "buffer_bytes": size, "reps": a.reps,
        "copy_seconds": copy_t,
        "copy_rw_gbs_best": 2 * size / best / 1e9, "copy_rw_gbs_median": 2 * size / med / 1e9,
        "copy_read_only_gbs_best": size / best / 1e9, "copy_read_only_gbs_median": size / med / 1e9,
        "read_seconds": read_t,
        "read_gbs_best": size / rbest / 1e9, "read_gbs_median": size / rmed / 1e9,
    }
    log(f"copy: {result['copy_rw_gbs_best']:.0f} GB/s best, {result['copy_rw_gbs_median']:.0f} median (read + write counted); "
        f"read-only convention {result['copy_read_only_gbs_best']:.0f}")
    log(f"sum (reads only): {result['read_gbs_best']:.0f} GB/s best, {result['read_gbs_median']:.0f} median")
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
