//! How the process's allocator treats the large buffers a photo needs.

/// Holds glibc's mmap threshold at 4 MiB, so every buffer at least that large (a photo's
/// decoded pixels, 12–150 MB; its 2048 px working copy, 12 MB) is mapped when allocated and
/// given back whole when freed. Left alone, glibc raises the threshold to the largest block
/// freed so far (up to 32 MiB): the working copies then come from the heap, which fragments
/// and is not returned. Measured with `cargo bench --bench uploads` (96 photos, 2.4 MB
/// each): `serve` with its two workers peaked at 812 MiB without this and 564 MiB with it,
/// a `beian worker` process at 537 and 467-479 MiB, at the same analysis throughput.
pub fn hold_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 4 << 20;
        // SAFETY: `mallopt` only sets a tunable of the allocator; it is called once at
        // start, before the threads that allocate are spawned.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        }
    }
}
