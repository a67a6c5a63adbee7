package dev.sprout.backend.java;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    @Test
    void chunksRespectThreadsCountAndWork() {
        int t = Parallel.defaultThreads();
        assertTrue(t >= 1);
        assertEquals(1, Parallel.chunks(100, 1, 1e12), "threads = 1 never splits");
        assertEquals(0, Parallel.chunks(0, 4, 1e12));
        assertEquals(1, Parallel.chunks(100, 8, 1), "tiny work is not split");
        assertEquals(Math.min(t, 3), Parallel.chunks(3, 8, Double.POSITIVE_INFINITY));
        // two items of half the minimum each make one chunk's worth; four make two
        assertEquals(1, Parallel.chunks(2, 8, Parallel.MIN_CHUNK_WORK / 2));
        assertEquals(Math.min(t, 2), Parallel.chunks(4, 8, Parallel.MIN_CHUNK_WORK / 2));
    }

    @Test
    void coversTheRangeOnceAndRunsOnTheCallerWhenSingleThreaded() {
        for (int count : new int[]{1, 2, 3, 7, 100}) {
            int[] hits = new int[count];
            Parallel.forRange(count, 4, Double.POSITIVE_INFINITY, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    synchronized (hits) {
                        hits[i]++;
                    }
                }
            });
            for (int h : hits) {
                assertEquals(1, h);
            }
        }
        Thread caller = Thread.currentThread();
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        Parallel.forRange(10, 1, Double.POSITIVE_INFINITY, (lo, hi) -> seen.add(Thread.currentThread()));
        assertEquals(Set.of(caller), seen);
    }

    @Test
    void usesPoolThreadsAndSurvivesNesting() {
        Set<String> names = ConcurrentHashMap.newKeySet();
        AtomicInteger inner = new AtomicInteger();
        Parallel.forRange(4, 4, Double.POSITIVE_INFINITY, (lo, hi) -> {
            names.add(Thread.currentThread().getName());
            sleep(20);
            for (int i = lo; i < hi; i++) {
                Parallel.forRange(6, 4, Double.POSITIVE_INFINITY, (l2, h2) -> inner.addAndGet(h2 - l2));
            }
        });
        assertEquals(4 * 6, inner.get());
        if (Parallel.defaultThreads() > 1) {
            assertTrue(names.stream().anyMatch(n -> n.startsWith("sprout-worker-")), names.toString());
        }
    }

    @Test
    void rethrowsTheFirstFailureOnTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(8, 4, Double.POSITIVE_INFINITY, (lo, hi) -> {
                    throw boom;
                }));
        assertSame(boom, e);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
