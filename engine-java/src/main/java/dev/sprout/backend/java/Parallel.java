package dev.sprout.backend.java;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Coarse-grained parallelism for the Java backend: splits a range of independent items (batch elements, row
 * panels of a large product) into contiguous chunks run on a fixed pool of daemon threads.
 *
 * <p>On a small shared machine fine-grained threading loses: a hand-off to a parked thread costs 10-15 us and
 * can cost milliseconds when the other core is busy (cpu-limits.md 2.3). So a range is split only into chunks of
 * at least {@link #MIN_CHUNK_WORK} work (about 1 ms), and never into more chunks than {@code threads}.
 *
 * <ul>
 *   <li>Pool size: {@code -Dsprout.threads=N}, default {@link Runtime#availableProcessors()}
 *       ({@link #defaultThreads()}); the pool has {@code N - 1} workers, the caller runs chunks too.</li>
 *   <li>The {@code threads} argument of each call caps it; {@code threads <= 1} runs everything on the caller.</li>
 *   <li>Chunks are claimed from a shared counter by the caller and the helpers, so a call never waits for a
 *       helper that has not started (the caller takes its chunks): nested calls from pool threads cannot
 *       deadlock, they only run with less help.</li>
 *   <li>The first exception thrown by a chunk is rethrown on the caller once all claimed chunks finished.</li>
 * </ul>
 */
public final class Parallel {
    /** System property with the pool size. */
    public static final String THREADS_PROPERTY = "sprout.threads";

    /**
     * Least work per chunk, in floating-point operations of plain (scalar) Java code: about 1 ms at ~5 GFLOP/s.
     * Callers running faster code scale their estimate (the vector gemm passes {@code flops / 20}).
     */
    public static final double MIN_CHUNK_WORK = 5e6;

    /** The body of a parallel loop: processes items {@code [lo, hi)}. */
    @FunctionalInterface
    public interface Range {
        void run(int lo, int hi);
    }

    private static final int DEFAULT_THREADS = readThreads();
    private static volatile ExecutorService pool;

    private Parallel() {
    }

    private static int readThreads() {
        String s = System.getProperty(THREADS_PROPERTY);
        if (s == null || s.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int t = Integer.parseInt(s.trim());
            if (t < 1) {
                throw new NumberFormatException("must be >= 1");
            }
            return t;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + THREADS_PROPERTY + "=" + s + ": expected a thread count >= 1", e);
        }
    }

    /** Threads available to kernels: {@code -Dsprout.threads}, default the number of processors. */
    public static int defaultThreads() {
        return DEFAULT_THREADS;
    }

    /**
     * How many chunks {@link #forRange} makes: at most {@code min(threads, defaultThreads(), count)}, and few enough
     * that each holds at least {@link #MIN_CHUNK_WORK}.
     *
     * @param workPerItem estimated cost of one item in scalar FLOPs; {@code Double.POSITIVE_INFINITY} splits as
     *                    much as the thread cap allows
     */
    public static int chunks(int count, int threads, double workPerItem) {
        int cap = Math.min(Math.min(threads, DEFAULT_THREADS), count);
        if (cap <= 1) {
            return Math.min(1, Math.max(0, count));
        }
        double byWork = Math.floor(count * Math.max(0, workPerItem) / MIN_CHUNK_WORK);
        return (int) Math.max(1, Math.min(cap, byWork));
    }

    /**
     * Runs {@code body} over {@code [0, count)} split into {@link #chunks} contiguous chunks of near-equal size,
     * the first on the calling thread; returns when all are done.
     */
    public static void forRange(int count, int threads, double workPerItem, Range body) {
        if (count <= 0) {
            return;
        }
        int chunks = chunks(count, threads, workPerItem);
        if (chunks <= 1) {
            body.run(0, count);
            return;
        }
        run(count, chunks, body);
    }

    private static void run(int count, int chunks, Range body) {
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(chunks);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable worker = () -> {
            int i;
            while ((i = next.getAndIncrement()) < chunks) {
                try {
                    if (failure.get() == null) {
                        body.run((int) ((long) count * i / chunks), (int) ((long) count * (i + 1) / chunks));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            }
        };
        ExecutorService p = pool();
        for (int h = 1; h < chunks; h++) {
            p.execute(worker);
        }
        worker.run();
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the chunks must finish before their arrays are handed back
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error er) {
            throw er;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    AtomicInteger n = new AtomicInteger();
                    p = Executors.newFixedThreadPool(Math.max(1, DEFAULT_THREADS - 1), r -> {
                        Thread t = new Thread(r, "sprout-worker-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
                    pool = p;
                }
            }
        }
        return p;
    }
}
