package dev.sprout.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time of the measured calls, next to JMH's wall-clock score: on this shared 2-core box other processes take
 * whole time slices, so wall time measures the load as much as the kernel. Per iteration, {@code cpuNs} is the CPU
 * time the measured calls used and {@code calls} how many there were (JMH reports both as iteration totals,
 * {@link AuxCounters.Type#EVENTS}); {@code sprout bench} turns them into a CPU-normalised rate or time per call, as
 * {@code shared/peers/torch_cpu.py} reports {@code cpuEq} for the peer. One-thread runs count the calling thread's CPU
 * time; runs with more threads count the whole process's (every worker, native ones included; JIT and GC too, which
 * makes the figure conservative). It does not remove cache or memory-bandwidth interference. Reading a clock costs
 * about a microsecond, so benchmarks time only calls of 100 microseconds or more. (Only the public fields are
 * counters: JMH would take a public method for one too.)
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuClock {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    public long cpuNs;
    public long calls;

    @Setup(Level.Iteration)
    public void reset() {
        cpuNs = 0;
        calls = 0;
    }

    /** The CPU-time clock for work on {@code threads} threads: the calling thread's, or the process's. */
    static long now(int threads) {
        return threads == 1 ? THREADS.getCurrentThreadCpuTime() : OS.getProcessCpuTime();
    }

    /** Adds one call that started at {@code start} (a {@link #now} reading). */
    public void add(long start, int threads) {
        cpuNs += now(threads) - start;
        calls++;
    }
}
