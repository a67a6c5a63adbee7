package dev.sprout.cuda;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static jcuda.driver.JCudaDriver.*;

/**
 * One CUDA device as Sprout uses it: its primary context, one stream that every kernel and copy is ordered
 * on, the module of Sprout's kernels (the fatbin built by nvcc during the Maven build), and a caching
 * allocator.
 *
 * <p>Only JCuda's driver API is used (JCublas and JNvrtc need CUDA 12 libraries that a CUDA 13 machine
 * lacks). Every public method makes the context current on the calling thread first, so any thread may call.
 * Methods are synchronized: one device object orders all its work on its one stream.
 *
 * <p>Errors: a failed launch throws {@link dev.sprout.cuda.CudaException} naming the kernel, grid, block
 * and shared memory. A kernel that faults while running is reported at the next synchronisation, naming the
 * last kernel launched; with {@code -Dsprout.cuda.sync=true} every launch is synchronised so the faulting
 * kernel is named exactly.
 *
 * <p>Allocator: blocks are rounded up to size classes (512 B granules below 1 MiB, then 1/8 steps of the
 * power of two) and kept on free lists by class after {@link DeviceBuffer#close()}. When the driver reports
 * out-of-memory, the cache is freed and the allocation tried once more; if that fails too, the error names
 * the bytes asked for and the bytes free.
 */
public final class CudaDevice {

    /** Resource path of the fatbin built from {@code src/main/cuda}. */
    public static final String FATBIN = "/dev/sprout/cuda/sprout.fatbin";

    private static final boolean SYNC_EACH_LAUNCH = Boolean.getBoolean("sprout.cuda.sync");

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, Integer> dynamicSharedSet = new HashMap<>();
    private final TreeMap<Long, ArrayDeque<CUdeviceptr>> cache = new TreeMap<>();
    private final String name;
    private final int major, minor, multiprocessors, sharedOptin;
    private final long totalMemory;
    private long cachedBytes, liveBytes, peakBytes;
    private String lastKernel;
    private final int[] lastShape = new int[7];
    /** Whether the last thing put on the stream was a graph replay (then lastKernel is not the last kernel). */
    private boolean lastWasGraph;
    /** Whether {@link #capture} is recording the stream; then nothing may synchronise or free device memory. */
    private boolean capturing;
    /** Buffers closed during the capture in progress: the graph keeps their memory until it is closed. */
    private List<DeviceBuffer> captureHeld;
    /** Cached instantiated graphs with the memory they use (see {@link #cachedGraph}), least recently used first. */
    private final LinkedHashMap<Object, AutoCloseable> graphCache = new LinkedHashMap<>(16, 0.75f, true);

    private CudaDevice(int ordinal, byte[] fatbin) {
        this.ordinal = ordinal;
        cuDeviceGet(device, ordinal);
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        cuStreamCreate(stream, 0); // blocking w.r.t. the legacy stream, so synchronous copies are ordered after kernels
        byte[] image = fatbin;
        cuModuleLoadData(module, image);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        name = new String(nameBytes, 0, len);
        major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        sharedOptin = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        long[] total = new long[1];
        cuDeviceTotalMem(total, device);
        totalMemory = total[0];
    }

    // ------------------------------------------------------------------------------------------ discovery

    private static final class Holder {
        static final CudaDevice DEVICE;
        static final String REASON;

        static {
            CudaDevice d = null;
            String reason;
            try {
                reason = CudaProbe.check();
                if (reason == null) {
                    d = new CudaDevice(0, CudaProbe.fatbin());
                }
            } catch (Throwable t) {
                reason = "CUDA device could not be opened: " + t;
            }
            DEVICE = d;
            REASON = reason;
        }
    }

    /** Whether device 0 can be used (driver, device, compute capability, kernels all present). */
    public static boolean available() {
        return Holder.DEVICE != null;
    }

    /** Why {@link #available()} is false, or {@code null}. */
    public static String unavailableReason() {
        return Holder.REASON;
    }

    /** Device 0, opened once. */
    public static CudaDevice shared() {
        if (Holder.DEVICE == null) {
            throw new dev.sprout.cuda.CudaException("CUDA backend unavailable: " + Holder.REASON);
        }
        return Holder.DEVICE;
    }

    private int attribute(int which) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, which, device);
        return v[0];
    }

    // ------------------------------------------------------------------------------------------ info

    public String name() {
        return name;
    }

    public int ordinal() {
        return ordinal;
    }

    public int computeMajor() {
        return major;
    }

    public int computeMinor() {
        return minor;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    /** Largest dynamic shared memory a block may opt in to, in bytes. */
    public int maxSharedPerBlockOptin() {
        return sharedOptin;
    }

    public long totalMemory() {
        return totalMemory;
    }

    /** {free, total} device memory in bytes, as the driver reports it now. */
    public synchronized long[] memoryInfo() {
        current();
        long[] free = new long[1], total = new long[1];
        cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    /** Bytes in live buffers, bytes held in the cache, and the peak of live bytes. */
    public synchronized long[] allocatorStats() {
        return new long[] {liveBytes, cachedBytes, peakBytes};
    }

    public String describe() {
        return name + " (sm_" + major + minor + ", " + multiprocessors + " SMs, " + (totalMemory >> 20) + " MiB)";
    }

    // ------------------------------------------------------------------------------------------ memory

    /**
     * Makes the context current on the calling thread, once per thread (a driver call per launch costs
     * measurable microseconds when a blocked LU issues hundreds of short kernels). Sprout is the only user of
     * the driver API in its process, so a thread keeps the context it was given.
     */
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private void current() {
        if (!bound.get()) {
            cuCtxSetCurrent(context);
            bound.set(Boolean.TRUE);
        }
    }

    static long sizeClass(long bytes) {
        long b = Math.max(bytes, 1);
        if (b <= (1L << 20)) {
            return (b + 511) & ~511L;
        }
        int hi = 63 - Long.numberOfLeadingZeros(b - 1); // 2^hi < b <= 2^(hi+1)
        long step = 1L << (hi - 2); // four steps per power of two above 1 MiB
        return (b + step - 1) / step * step;
    }

    /** A buffer of at least {@code bytes} bytes (contents undefined), from the cache when one fits. */
    public synchronized DeviceBuffer alloc(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("device alloc: negative size " + bytes);
        }
        current();
        long cls = sizeClass(bytes);
        ArrayDeque<CUdeviceptr> list = cache.get(cls);
        CUdeviceptr p;
        if (list != null && !list.isEmpty()) {
            p = list.pop();
            cachedBytes -= cls;
        } else {
            p = new CUdeviceptr();
            try {
                cuMemAlloc(p, cls);
            } catch (CudaException first) {
                if (!first.getMessage().contains("OUT_OF_MEMORY")) {
                    throw new dev.sprout.cuda.CudaException("cuMemAlloc(" + cls + " bytes) failed: " + first.getMessage(), first);
                }
                if (capturing) {
                    // freeing the cache synchronises, which a stream capture forbids: fail the capture instead
                    throw new dev.sprout.cuda.CudaException("out of device memory during a CUDA graph capture: asked for "
                            + bytes + " bytes (" + cls + " with rounding) on " + name + " (the cache is not released"
                            + " while capturing)", first);
                }
                freeCache();
                try {
                    cuMemAlloc(p, cls);
                } catch (CudaException second) {
                    long[] info = memoryInfo();
                    throw new dev.sprout.cuda.CudaException("out of device memory: asked for " + bytes + " bytes ("
                            + cls + " with rounding) on " + name + "; " + info[0] + " bytes free of " + info[1]
                            + ", " + liveBytes + " bytes held by live buffers (cache already released)", second);
                }
            }
        }
        liveBytes += cls;
        peakBytes = Math.max(peakBytes, liveBytes);
        return new DeviceBuffer(this, p, cls, bytes);
    }

    synchronized void release(DeviceBuffer b) {
        if (capturing) {
            // the captured graph may still use this memory at every replay: it stays out of the cache until the
            // graph is closed
            captureHeld.add(b);
            return;
        }
        toCache(b);
    }

    private void toCache(DeviceBuffer b) {
        long cls = b.capacity();
        liveBytes -= cls;
        cachedBytes += cls;
        cache.computeIfAbsent(cls, c -> new ArrayDeque<>()).push(b.raw());
    }

    /** Gives every cached block back to the driver (closing the cached graphs first, see {@link #cachedGraph}). */
    public synchronized void freeCache() {
        if (capturing) {
            throw new IllegalStateException("freeCache during a CUDA graph capture (it would synchronise)");
        }
        current();
        dropCachedGraphs();
        try {
            cuCtxSynchronize();
        } catch (CudaException e) {
            throw failure("synchronize before freeing the cache", e);
        }
        for (ArrayDeque<CUdeviceptr> list : cache.values()) {
            for (CUdeviceptr p : list) {
                cuMemFree(p);
            }
        }
        cache.clear();
        cachedBytes = 0;
    }

    public DeviceBuffer upload(float[] src, int off, int len) {
        DeviceBuffer b = alloc(4L * len);
        copyIn(b, 0, Pointer.to(src).withByteOffset(4L * off), 4L * len, src.length, off, len);
        return b;
    }

    public DeviceBuffer upload(double[] src, int off, int len) {
        DeviceBuffer b = alloc(8L * len);
        copyIn(b, 0, Pointer.to(src).withByteOffset(8L * off), 8L * len, src.length, off, len);
        return b;
    }

    public DeviceBuffer upload(int[] src, int off, int len) {
        DeviceBuffer b = alloc(4L * len);
        copyIn(b, 0, Pointer.to(src).withByteOffset(4L * off), 4L * len, src.length, off, len);
        return b;
    }

    /** Bytes per element of a {@code float[]}, {@code double[]} or {@code int[]} host array. */
    public static int elementBytes(Object array) {
        if (array instanceof float[] || array instanceof int[]) {
            return 4;
        }
        if (array instanceof double[]) {
            return 8;
        }
        throw new IllegalArgumentException("not a float[], double[] or int[] array: "
                + (array == null ? "null" : array.getClass().getSimpleName()));
    }

    /** {@link #upload(float[], int, int)} for a {@code float[]}, {@code double[]} or {@code int[]} given as an Object. */
    public DeviceBuffer upload(Object src, int off, int len) {
        if (src instanceof float[]) {
            return upload((float[]) src, off, len);
        }
        if (src instanceof double[]) {
            return upload((double[]) src, off, len);
        }
        if (src instanceof int[]) {
            return upload((int[]) src, off, len);
        }
        throw new IllegalArgumentException("upload: not a float[], double[] or int[] array: "
                + (src == null ? "null" : src.getClass().getSimpleName()));
    }

    /** {@link #download(DeviceBuffer, long, float[], int, int)} for a host array given as an Object. */
    public void download(DeviceBuffer src, long srcOff, Object dst, int off, int len) {
        if (dst instanceof float[]) {
            download(src, srcOff, (float[]) dst, off, len);
        } else if (dst instanceof double[]) {
            download(src, srcOff, (double[]) dst, off, len);
        } else if (dst instanceof int[]) {
            download(src, srcOff, (int[]) dst, off, len);
        } else {
            throw new IllegalArgumentException("download: not a float[], double[] or int[] array: "
                    + (dst == null ? "null" : dst.getClass().getSimpleName()));
        }
    }

    /** Copies {@code len} floats from {@code src[off..]} to {@code dst} at element offset {@code dstOff}. */
    public void copyIn(float[] src, int off, int len, DeviceBuffer dst, long dstOff) {
        copyIn(dst, 4L * dstOff, Pointer.to(src).withByteOffset(4L * off), 4L * len, src.length, off, len);
    }

    public void copyIn(double[] src, int off, int len, DeviceBuffer dst, long dstOff) {
        copyIn(dst, 8L * dstOff, Pointer.to(src).withByteOffset(8L * off), 8L * len, src.length, off, len);
    }

    private synchronized void copyIn(DeviceBuffer dst, long dstByte, Pointer src, long bytes, int arrayLen, int off, int len) {
        checkHost("upload", arrayLen, off, len);
        dst.check(dstByte, bytes);
        if (bytes == 0) {
            return;
        }
        notCapturing("upload");
        current();
        try {
            cuMemcpyHtoD(dst.at(dstByte), src, bytes);
        } catch (CudaException e) {
            throw failure("copy of " + bytes + " bytes to the device", e);
        }
    }

    /** Copies {@code len} floats from {@code src} at element offset {@code srcOff} into {@code dst[off..]}. */
    public void download(DeviceBuffer src, long srcOff, float[] dst, int off, int len) {
        copyOut(src, 4L * srcOff, Pointer.to(dst).withByteOffset(4L * off), 4L * len, dst.length, off, len);
    }

    public void download(DeviceBuffer src, long srcOff, double[] dst, int off, int len) {
        copyOut(src, 8L * srcOff, Pointer.to(dst).withByteOffset(8L * off), 8L * len, dst.length, off, len);
    }

    public void download(DeviceBuffer src, long srcOff, int[] dst, int off, int len) {
        copyOut(src, 4L * srcOff, Pointer.to(dst).withByteOffset(4L * off), 4L * len, dst.length, off, len);
    }

    private synchronized void copyOut(DeviceBuffer src, long srcByte, Pointer dst, long bytes, int arrayLen, int off, int len) {
        checkHost("download", arrayLen, off, len);
        src.check(srcByte, bytes);
        if (bytes == 0) {
            return;
        }
        notCapturing("download");
        current();
        try {
            cuMemcpyDtoH(dst, src.at(srcByte), bytes);
        } catch (CudaException e) {
            throw failure("copy of " + bytes + " bytes from the device", e);
        }
    }

    private static void checkHost(String what, int arrayLen, int off, int len) {
        if (off < 0 || len < 0 || (long) off + len > arrayLen) {
            throw new IndexOutOfBoundsException(what + ": host range [" + off + ", " + ((long) off + len)
                    + ") outside an array of " + arrayLen);
        }
    }

    /** Copies {@code bytes} bytes between device buffers (ordered on the stream). */
    public synchronized void copy(DeviceBuffer src, long srcByte, DeviceBuffer dst, long dstByte, long bytes) {
        src.check(srcByte, bytes);
        dst.check(dstByte, bytes);
        if (bytes == 0) {
            return;
        }
        current();
        try {
            cuMemcpyDtoDAsync(dst.at(dstByte), src.at(srcByte), bytes, stream);
        } catch (CudaException e) {
            throw failure("device-to-device copy of " + bytes + " bytes", e);
        }
    }

    /** Sets {@code bytes} bytes from {@code byteOffset} to zero. */
    public synchronized void zero(DeviceBuffer b, long byteOffset, long bytes) {
        b.check(byteOffset, bytes);
        if (bytes == 0) {
            return;
        }
        current();
        try {
            cuMemsetD8Async(b.at(byteOffset), (byte) 0, bytes, stream);
        } catch (CudaException e) {
            throw failure("memset of " + bytes + " bytes", e);
        }
    }

    public void zero(DeviceBuffer b) {
        zero(b, 0, b.bytes());
    }

    // ------------------------------------------------------------------------------------------ kernels

    private CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f == null) {
            f = new CUfunction();
            try {
                cuModuleGetFunction(f, module, kernel);
            } catch (CudaException e) {
                throw new dev.sprout.cuda.CudaException("kernel '" + kernel + "' is not in Sprout's fatbin ("
                        + e.getMessage() + ")", e);
            }
            functions.put(kernel, f);
        }
        return f;
    }

    /** Registers (static) shared memory and registers of a kernel, for tests and tuning: {regs, staticSmem, maxThreads}. */
    public synchronized int[] kernelAttributes(String kernel) {
        current();
        CUfunction f = function(kernel);
        int[] regs = new int[1], smem = new int[1], threads = new int[1];
        cuFuncGetAttribute(regs, CUfunction_attribute.CU_FUNC_ATTRIBUTE_NUM_REGS, f);
        cuFuncGetAttribute(smem, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f);
        cuFuncGetAttribute(threads, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f);
        return new int[] {regs[0], smem[0], threads[0]};
    }

    /**
     * Loads {@code kernel} and opts it in to {@code sharedBytes} of dynamic shared memory now, as its first
     * {@link #launch} would; used before a {@link #capture} so that no module or attribute call happens inside it.
     */
    public synchronized void prepare(String kernel, int sharedBytes) {
        current();
        CUfunction f = function(kernel);
        try {
            if (sharedBytes > 48 * 1024 && sharedBytes <= Math.max(sharedOptin, 48 * 1024)) {
                Integer set = dynamicSharedSet.get(kernel);
                if (set == null || set < sharedBytes) {
                    cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
                    dynamicSharedSet.put(kernel, sharedBytes);
                }
            }
        } catch (CudaException e) {
            throw failure("shared-memory opt-in of " + kernel + " (" + sharedBytes + " bytes)", e);
        }
    }

    /**
     * Launches {@code kernel} on the device's stream. Arguments, in the kernel's parameter order, may be
     * {@link DeviceBuffer}, {@link CUdeviceptr}, {@link Integer}, {@link Long}, {@link Float} or {@link Double}.
     * Dynamic shared memory above 48 KiB is opted in to automatically (up to the device's limit).
     */
    public synchronized void launch(String kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                                    Object... args) {
        if (gx <= 0 || gy <= 0 || gz <= 0 || bx <= 0 || by <= 0 || bz <= 0 || gy > 65535 || gz > 65535
                || (long) bx * by * bz > 1024) {
            throw new IllegalArgumentException("invalid launch shape " + shape(kernel, gx, gy, gz, bx, by, bz, sharedBytes));
        }
        if (sharedBytes < 0 || sharedBytes > Math.max(sharedOptin, 48 * 1024)) {
            throw new IllegalArgumentException(shape(kernel, gx, gy, gz, bx, by, bz, sharedBytes) + ": " + sharedBytes
                    + " bytes of shared memory exceed the device's " + sharedOptin);
        }
        current();
        CUfunction f = function(kernel);
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof DeviceBuffer) {
                params[i] = Pointer.to(((DeviceBuffer) a).pointer());
            } else if (a instanceof CUdeviceptr) {
                params[i] = Pointer.to((CUdeviceptr) a);
            } else if (a instanceof Integer) {
                params[i] = Pointer.to(new int[] {(Integer) a});
            } else if (a instanceof Long) {
                params[i] = Pointer.to(new long[] {(Long) a});
            } else if (a instanceof Float) {
                params[i] = Pointer.to(new float[] {(Float) a});
            } else if (a instanceof Double) {
                params[i] = Pointer.to(new double[] {(Double) a});
            } else {
                throw new IllegalArgumentException(shape(kernel, gx, gy, gz, bx, by, bz, sharedBytes) + ": argument " + i
                        + " has unsupported type "
                        + (a == null ? "null" : a.getClass().getName()));
            }
        }
        try {
            if (sharedBytes > 48 * 1024) {
                Integer set = dynamicSharedSet.get(kernel);
                if (set == null || set < sharedBytes) {
                    cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
                    dynamicSharedSet.put(kernel, sharedBytes);
                }
            }
            cuLaunchKernel(f, gx, gy, gz, bx, by, bz, sharedBytes, stream, Pointer.to(params), null);
            lastKernel = kernel;
            lastWasGraph = false;
            lastShape[0] = gx;
            lastShape[1] = gy;
            lastShape[2] = gz;
            lastShape[3] = bx;
            lastShape[4] = by;
            lastShape[5] = bz;
            lastShape[6] = sharedBytes;
            if (SYNC_EACH_LAUNCH && !capturing) {
                cuStreamSynchronize(stream);
            }
        } catch (CudaException e) {
            throw new dev.sprout.cuda.CudaException("launch of " + shape(kernel, gx, gy, gz, bx, by, bz, sharedBytes)
                    + " failed: " + e.getMessage(), e);
        }
    }

    private static String shape(String kernel, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes) {
        return kernel + "<<<(" + gx + "," + gy + "," + gz + "), (" + bx + "," + by + "," + bz + "), " + sharedBytes + " B>>>";
    }

    /** The last kernel launched and its launch shape (built only when an error needs it). */
    private String lastLaunch() {
        if (lastWasGraph) {
            return "a CUDA graph replay (its last captured kernel: " + (lastKernel == null ? "(none)" : lastKernel) + ")";
        }
        return lastKernel == null ? "(none)" : shape(lastKernel, lastShape[0], lastShape[1], lastShape[2], lastShape[3],
                lastShape[4], lastShape[5], lastShape[6]);
    }

    /** Waits for all work on the device's stream; a kernel fault is reported naming the last kernel launched. */
    public synchronized void synchronize() {
        notCapturing("synchronize");
        current();
        try {
            cuStreamSynchronize(stream);
        } catch (CudaException e) {
            throw failure("synchronize", e);
        }
    }

    private dev.sprout.cuda.CudaException failure(String what, CudaException e) {
        return new dev.sprout.cuda.CudaException(what + " failed: " + e.getMessage() + " (last kernel launched: "
                + lastLaunch() + ")", e);
    }

    // ------------------------------------------------------------------------------------------ timing

    /** Runs {@code work} {@code reps} times between two CUDA events and returns the mean milliseconds per run. */
    public synchronized double time(int reps, Runnable work) {
        notCapturing("time");
        current();
        CUevent start = new CUevent(), stop = new CUevent();
        cuEventCreate(start, 0);
        cuEventCreate(stop, 0);
        try {
            cuEventRecord(start, stream);
            for (int i = 0; i < reps; i++) {
                work.run();
            }
            cuEventRecord(stop, stream);
            cuEventSynchronize(stop);
            float[] ms = new float[1];
            cuEventElapsedTime(ms, start, stop);
            return ms[0] / reps;
        } catch (CudaException e) {
            throw failure("timed run", e);
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    // ------------------------------------------------------------------------------------------ graphs

    private void notCapturing(String what) {
        if (capturing) {
            throw new IllegalStateException(what + " during a CUDA graph capture (it would synchronise the stream)");
        }
    }

    /** Whether a {@link #capture} is in progress (on this device's stream). */
    public synchronized boolean isCapturing() {
        return capturing;
    }

    /**
     * Records {@code work} (launches, {@link #copy}, {@link #zero} on this device's stream) into a CUDA graph
     * instead of running it, and returns the instantiated graph; nothing has run on the device when this returns.
     * The capture is in relaxed mode, so the allocator may call cuMemAlloc. Inside {@code work} nothing may
     * synchronise: uploads, downloads, {@link #synchronize}, {@link #time} and {@link #freeCache} throw, and
     * {@code -Dsprout.cuda.sync} is not applied. Buffers closed inside {@code work} are kept by the graph until it
     * is closed. The work must take no host decision from device data (there is none to read while capturing).
     * If {@code work} or the capture fails, the capture is ended, the partial graph destroyed, and the error
     * rethrown; the stream is never left capturing. Other threads wait (the device is locked throughout).
     */
    public synchronized CudaGraph capture(Runnable work) {
        if (capturing) {
            throw new IllegalStateException("nested CUDA graph capture");
        }
        current();
        try {
            cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED);
        } catch (CudaException e) {
            throw failure("begin of a stream capture", e);
        }
        List<DeviceBuffer> held = new ArrayList<>();
        capturing = true;
        captureHeld = held;
        Throwable error = null;
        try {
            work.run();
        } catch (Throwable t) {
            error = t;
        }
        CUgraph graph = new CUgraph();
        boolean haveGraph = false;
        try {
            cuStreamEndCapture(stream, graph); // ends the capture even when it fails (graph then null)
            haveGraph = true;
        } catch (Throwable t) {
            if (error == null) {
                error = t instanceof CudaException ce ? failure("end of a stream capture", ce) : t;
            } else {
                error.addSuppressed(t);
            }
        } finally {
            capturing = false;
            captureHeld = null;
        }
        CUgraphExec exec = null;
        if (error == null) {
            exec = new CUgraphExec();
            try {
                cuGraphInstantiate(exec, graph, 0L);
            } catch (Throwable t) {
                exec = null;
                error = t instanceof CudaException ce ? failure("instantiation of a captured graph", ce) : t;
            }
        }
        if (error != null) {
            if (haveGraph) {
                try {
                    cuGraphDestroy(graph);
                } catch (Throwable t) {
                    error.addSuppressed(t);
                }
            }
            for (DeviceBuffer b : held) {
                toCache(b);
            }
            if (error instanceof RuntimeException r) {
                throw r;
            }
            if (error instanceof Error e) {
                throw e;
            }
            throw new dev.sprout.cuda.CudaException("CUDA graph capture failed: " + error, error);
        }
        return new CudaGraph(this, graph, exec, held);
    }

    synchronized void launchGraph(CudaGraph g) {
        if (g.closedFlag()) {
            throw new IllegalStateException("launch of a closed CUDA graph");
        }
        notCapturing("graph launch");
        current();
        try {
            cuGraphLaunch(g.exec(), stream);
            lastWasGraph = true;
            if (SYNC_EACH_LAUNCH) {
                cuStreamSynchronize(stream);
            }
        } catch (CudaException e) {
            throw failure("CUDA graph launch", e);
        }
    }

    synchronized void closeGraph(CudaGraph g) {
        if (g.closedFlag()) {
            return;
        }
        g.markClosed();
        current();
        try {
            // an executable graph still running is freed by the driver when it completes; its memory goes back to
            // the cache, which is safe as every later use is ordered after it on the one stream
            cuGraphExecDestroy(g.exec());
            cuGraphDestroy(g.graph());
        } catch (CudaException e) {
            throw failure("destruction of a CUDA graph", e);
        } finally {
            for (DeviceBuffer b : g.held()) {
                toCache(b);
            }
            g.held().clear();
        }
    }

    /**
     * The cached entry under {@code key} (marked most recently used), or null. The graph cache holds
     * instantiated graphs together with the buffers they use, so that the buffers stay allocated while the graph
     * lives; entries are closed on overflow of their cache's capacity and by {@link #freeCache}. Callers hold
     * the device's lock ({@code synchronized (device)}) across lookup and launch.
     */
    synchronized AutoCloseable cachedGraph(Object key) {
        return graphCache.get(key);
    }

    /** Caches {@code entry} under {@code key}, closing least recently used entries beyond {@code capacity}. */
    synchronized void cacheGraph(Object key, AutoCloseable entry, int capacity) {
        AutoCloseable old = graphCache.put(key, entry);
        RuntimeException error = null;
        if (old != null && old != entry) {
            error = closeQuietly(old, null);
        }
        Iterator<AutoCloseable> it = graphCache.values().iterator();
        while (graphCache.size() > Math.max(capacity, 1) && it.hasNext()) {
            AutoCloseable e = it.next();
            if (e == entry) {
                continue;
            }
            it.remove();
            error = closeQuietly(e, error);
        }
        if (error != null) {
            throw error;
        }
    }

    /** Closes every cached graph entry (and so gives its buffers back to the cache). */
    public synchronized void dropCachedGraphs() {
        RuntimeException error = null;
        for (AutoCloseable e : graphCache.values()) {
            error = closeQuietly(e, error);
        }
        graphCache.clear();
        if (error != null) {
            throw error;
        }
    }

    /** Number of cached graph entries (for tests). */
    synchronized int cachedGraphCount() {
        return graphCache.size();
    }

    private static RuntimeException closeQuietly(AutoCloseable c, RuntimeException error) {
        try {
            c.close();
        } catch (Exception e) {
            RuntimeException r = e instanceof RuntimeException re ? re
                    : new dev.sprout.cuda.CudaException("closing a cached CUDA graph failed: " + e, e);
            if (error == null) {
                return r;
            }
            error.addSuppressed(r);
        }
        return error;
    }

    static byte[] readResource(String path) throws IOException {
        try (InputStream in = CudaDevice.class.getResourceAsStream(path)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    @SuppressWarnings("unused")
    private static String resultName(int code) {
        return CUresult.stringFor(code);
    }
}
