package dev.sprout.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A block of device memory handed out by {@link CudaDevice#alloc}. Closing it returns the block to the
 * device's cache (it is not given back to the driver), so allocation in a training loop costs a list lookup.
 * A closed buffer refuses every further use with an exception instead of touching freed memory.
 */
public final class DeviceBuffer implements AutoCloseable {

    private final CudaDevice device;
    private final CUdeviceptr pointer;
    private final long capacity;
    private final long bytes;
    private boolean closed;

    DeviceBuffer(CudaDevice device, CUdeviceptr pointer, long capacity, long bytes) {
        this.device = device;
        this.pointer = pointer;
        this.capacity = capacity;
        this.bytes = bytes;
    }

    /** The size that was asked for, in bytes. */
    public long bytes() {
        return bytes;
    }

    /** The size of the underlying cached block (at least {@link #bytes()}). */
    long capacity() {
        return capacity;
    }

    public CudaDevice device() {
        return device;
    }

    /** The device pointer to the first byte. */
    public CUdeviceptr pointer() {
        check(0, 0);
        return pointer;
    }

    /** A device pointer {@code byteOffset} bytes in; the offset must lie inside the buffer. */
    public CUdeviceptr at(long byteOffset) {
        check(byteOffset, 0);
        return byteOffset == 0 ? pointer : pointer.withByteOffset(byteOffset);
    }

    /** Checks that {@code [byteOffset, byteOffset + length)} lies inside this (open) buffer. */
    public void check(long byteOffset, long length) {
        if (closed) {
            throw new IllegalStateException("device buffer of " + bytes + " bytes used after close");
        }
        if (byteOffset < 0 || length < 0 || byteOffset + length > bytes) {
            throw new IndexOutOfBoundsException("device buffer of " + bytes + " bytes: range [" + byteOffset + ", "
                    + (byteOffset + length) + ") out of bounds");
        }
    }

    CUdeviceptr raw() {
        return pointer;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.release(this);
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + bytes + " bytes" + (closed ? ", closed" : "") + "]";
    }
}
