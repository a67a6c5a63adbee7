package dev.sprout.cuda;

import dev.sprout.backend.Backend;
import dev.sprout.backend.BackendProvider;
import dev.sprout.backend.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device layer: probe and fallback (run everywhere), allocator and copies (on a GPU). */
class CudaDeviceTest {

    static void assumeGpu() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
    }

    @Test
    void providerIsDiscoveredAndExplainsItself() {
        BackendProvider cuda = Backends.providers().stream().filter(p -> p.name().equals("cuda")).findFirst().orElseThrow();
        assertTrue(cuda.rank() > 100, "CUDA ranks above the Java backend");
        BackendProvider.Probe probe = cuda.probe();
        assertNotNull(probe.detail());
        assertFalse(probe.detail().isBlank(), "the probe always says something");
        assertEquals(CudaDevice.available(), probe.available());
        assertFalse(probe.detail().contains("\n"), () -> "the probe's reason is one line: " + probe.detail());
    }

    @Test
    void jcudaLoadFailuresBecomeOneLineNamingTheMissingLibrary() {
        String jcuda = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\nOperating system name: Linux\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared "
                + "object file: No such file or directory\n\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)";
        assertEquals("libcuda.so.1 not found (the NVIDIA driver is not installed or not on the loader path)",
                CudaProbe.linkFailure(jcuda));
        String other = "no JCudaDriver in java.library.path\nmore";
        assertEquals("JCuda's driver library could not be loaded (no JCudaDriver in java.library.path)", CudaProbe.linkFailure(other));
    }

    @Test
    void withoutAGpuAutoFallsBackAndAnExplicitRequestFailsWithTheReason() {
        Assumptions.assumeFalse(CudaDevice.available(), "a GPU is present: the fallback path is not taken");
        Backends.Selection auto = Backends.select("auto");
        assertTrue(auto.log().stream().anyMatch(l -> l.contains("skipped backend cuda: " + CudaDevice.unavailableReason())),
                () -> "one log line names the skipped CUDA backend and why: " + auto.log());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.select("cuda"));
        assertTrue(e.getMessage().contains(CudaDevice.unavailableReason()), e.getMessage());
        assertThrows(CudaException.class, CudaDevice::shared);
    }

    @Test
    void withAGpuAutoPicksCuda() {
        assumeGpu();
        Backend b = Backends.select("auto").backend();
        assertEquals("cuda", b.name());
    }

    @Test
    void sizeClassesRoundUpAndStayClose() {
        assertEquals(512, CudaDevice.sizeClass(1));
        assertEquals(512, CudaDevice.sizeClass(512));
        assertEquals(1024, CudaDevice.sizeClass(513));
        assertEquals(1L << 20, CudaDevice.sizeClass(1L << 20));
        for (long b = (1L << 20) + 1; b < (1L << 34); b = b * 3 / 2 + 7) {
            long c = CudaDevice.sizeClass(b);
            assertTrue(c >= b && c <= b * 1.25 + 512, b + " -> " + c);
            assertEquals(c, CudaDevice.sizeClass(c), "a class maps to itself");
        }
    }

    @Test
    void roundTripAndCacheReuse() {
        assumeGpu();
        CudaDevice d = CudaDevice.shared();
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.5f - 7;
        }
        try (DeviceBuffer b = d.upload(x, 10, 900)) {
            float[] y = new float[905];
            d.download(b, 0, y, 5, 900);
            for (int i = 0; i < 900; i++) {
                assertEquals(x[10 + i], y[5 + i]);
            }
            d.zero(b, 4, 8);
            float[] z = new float[4];
            d.download(b, 0, z, 0, 4);
            assertArrayEquals(new float[] {x[10], 0f, 0f, x[13]}, z);
        }
        long[] before = d.allocatorStats();
        try (DeviceBuffer again = d.alloc(3600)) {
            assertEquals(before[1] - CudaDevice.sizeClass(3600), d.allocatorStats()[1], "served from the cache");
        }
    }

    @Test
    void closedBuffersAndBadRangesAreRefused() {
        assumeGpu();
        CudaDevice d = CudaDevice.shared();
        DeviceBuffer b = d.alloc(64);
        assertThrows(IndexOutOfBoundsException.class, () -> d.download(b, 10, new float[16], 0, 16));
        assertThrows(IndexOutOfBoundsException.class, () -> d.copyIn(new float[4], 2, 4, b, 0));
        b.close();
        assertThrows(IllegalStateException.class, () -> d.download(b, 0, new float[4], 0, 4));
    }

    @Test
    void outOfMemoryNamesTheBytes() {
        assumeGpu();
        CudaDevice d = CudaDevice.shared();
        long tooMuch = d.totalMemory() * 2;
        CudaException e = assertThrows(CudaException.class, () -> d.alloc(tooMuch));
        assertTrue(e.getMessage().contains(Long.toString(tooMuch)), e.getMessage());
        try (DeviceBuffer ok = d.alloc(1 << 20)) { // the device is still usable afterwards
            assertEquals(1 << 20, ok.bytes());
        }
    }

    @Test
    void unknownKernelAndBadLaunchShapeAreClearErrors() {
        assumeGpu();
        CudaDevice d = CudaDevice.shared();
        CudaException e = assertThrows(CudaException.class, () -> d.launch("sprout_no_such_kernel", 1, 1, 1, 1, 1, 1, 0));
        assertTrue(e.getMessage().contains("sprout_no_such_kernel"), e.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> d.launch("sprout_no_such_kernel", 1, 1, 1, 2048, 1, 1, 0));
        assertTrue(shape.getMessage().contains("2048"), shape.getMessage());
    }
}
