package dev.sprout.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;

import java.util.List;

/**
 * An instantiated CUDA graph captured from the device's stream by {@link CudaDevice#capture(Runnable)}.
 * {@link #launch()} replays the captured work on the device's stream (asynchronously, ordered like any launch);
 * {@link #close()} destroys the executable graph and the graph. Device buffers that were closed while the work
 * was being captured are held by the graph (the replay still uses their memory) and go back to the device's
 * cache only when the graph is closed. Buffers allocated before the capture and used by it stay the caller's:
 * they must stay open (not be closed back into the cache) as long as the graph is launched.
 */
public final class CudaGraph implements AutoCloseable {

    private final CudaDevice device;
    private final CUgraph graph;
    private final CUgraphExec exec;
    private final List<DeviceBuffer> held;
    private boolean closed;

    CudaGraph(CudaDevice device, CUgraph graph, CUgraphExec exec, List<DeviceBuffer> held) {
        this.device = device;
        this.graph = graph;
        this.exec = exec;
        this.held = held;
    }

    public CudaDevice device() {
        return device;
    }

    /** Replays the captured work on the device's stream. */
    public void launch() {
        device.launchGraph(this);
    }

    CUgraph graph() {
        return graph;
    }

    CUgraphExec exec() {
        return exec;
    }

    List<DeviceBuffer> held() {
        return held;
    }

    boolean closedFlag() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    public boolean isClosed() {
        synchronized (device) {
            return closed;
        }
    }

    /** Destroys the executable graph and the graph, and gives the buffers it held back to the device's cache. */
    @Override
    public void close() {
        device.closeGraph(this);
    }

    @Override
    public String toString() {
        return "CudaGraph[" + (closed ? "closed" : "open") + "]";
    }
}
