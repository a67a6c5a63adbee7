package dev.sprout.backend.nativecpu;

import dev.sprout.backend.Backend;
import dev.sprout.backend.BackendProvider;
import dev.sprout.backend.Backends;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CPU probe, library loading, the provider's probe and ISA choice. */
class NativeLoadingTest {

    static String cpuinfo() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException e) {
            return "";
        }
    }

    static boolean linuxX86() {
        String arch = System.getProperty("os.arch");
        return System.getProperty("os.name").toLowerCase().startsWith("linux") && ("amd64".equals(arch) || "x86_64".equals(arch));
    }

    @Test
    void cpuinfoFlagsAreParsed() {
        String text = "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw bmi2\n"
                + "processor\t: 1\nflags\t\t: fpu\n";
        CpuFeatures f = CpuFeatures.fromCpuinfo(text, "test");
        assertEquals(EnumSet.of(CpuFeatures.Feature.SSE42, CpuFeatures.Feature.AVX, CpuFeatures.Feature.AVX2,
                CpuFeatures.Feature.FMA, CpuFeatures.Feature.AVX512F, CpuFeatures.Feature.AVX512BW, CpuFeatures.Feature.BMI2),
                f.features());
        // AVX-512 needs DQ and VL too: this CPU runs only the AVX2 kernels
        assertTrue(f.missing(Isa.AVX2.required()).isEmpty());
        assertEquals(List.of(CpuFeatures.Feature.AVX512DQ, CpuFeatures.Feature.AVX512VL), f.missing(Isa.AVX512.required()));
        assertTrue(CpuFeatures.fromCpuinfo("no flags here", "test").features().isEmpty());
    }

    @Test
    void cpuIdBitsDecode() {
        CpuFeatures f = CpuFeatures.fromBits((1 << 2) | (1 << 3) | (1 << 4), "test");
        assertEquals(EnumSet.of(CpuFeatures.Feature.AVX2, CpuFeatures.Feature.FMA, CpuFeatures.Feature.AVX512F), f.features());
    }

    /** The baseline CpuId library loads and agrees with the kernel's view in /proc/cpuinfo. */
    @Test
    void cpuIdLibraryAgreesWithProcCpuinfo() {
        assumeTrue(linuxX86(), "CpuId is built for linux-x86_64");
        CpuFeatures probed = CpuFeatures.probe();
        assertTrue(probed.source().startsWith("cpuid"), "libjniCpuId must load from the build: " + probed.source());
        CpuFeatures proc = CpuFeatures.fromCpuinfo(cpuinfo(), "/proc/cpuinfo");
        for (CpuFeatures.Feature f : List.of(CpuFeatures.Feature.AVX2, CpuFeatures.Feature.FMA, CpuFeatures.Feature.AVX512F,
                CpuFeatures.Feature.AVX512DQ, CpuFeatures.Feature.AVX512BW, CpuFeatures.Feature.AVX512VL)) {
            assertEquals(proc.has(f), probed.has(f), "feature " + f + ": cpuid vs /proc/cpuinfo");
        }
    }

    /** Where the CPU has AVX2 and FMA, the library was built and loads, and every ISA the CPU runs is runnable. */
    @Test
    void libraryLoadsWhereTheCpuCanRunIt() {
        assumeTrue(linuxX86(), "the library is built for linux-x86_64");
        CpuFeatures proc = CpuFeatures.fromCpuinfo(cpuinfo(), "/proc/cpuinfo");
        assumeTrue(proc.missing(Isa.AVX2.required()).isEmpty(), "CPU without AVX2/FMA: " + proc);
        NativeLibrary.Status st = NativeLibrary.status();
        assertTrue(st.loaded(), st.detail());
        assertTrue(st.runnable().contains(Isa.AVX2));
        assertEquals(proc.missing(Isa.AVX512.required()).isEmpty(), st.runnable().contains(Isa.AVX512), st.detail());
        assertEquals(Isa.values()[st.runnable().size() - 1], NativeBackend.best().isa(), "best() takes the widest ISA");
    }

    @Test
    void providerRanksBetweenCudaAndJavaAndIsFoundByServiceLoader() {
        NativeBackendProvider p = new NativeBackendProvider();
        assertEquals("native", p.name());
        assertEquals(200, p.rank());
        assertTrue(Backends.providers().stream().anyMatch(q -> q instanceof NativeBackendProvider),
                "META-INF/services registers the native provider");
    }

    @Test
    void probeSaysWhyOrCreatesTheBackend() {
        BackendProvider.Probe probe = new NativeBackendProvider().probe();
        assertFalse(probe.detail().isBlank());
        if (!probe.available()) {
            assertThrows(IllegalStateException.class, NativeBackend::best);
            return;
        }
        Backend b = new NativeBackendProvider().create();
        assertInstanceOf(NativeBackend.class, b);
        assertEquals("native", b.name());
        assertTrue(b.describe().contains(((NativeBackend) b).isa().label()), b.describe());
    }

    @Test
    void forcedIsaIsHonouredOrRefusedWithAReason() {
        assumeTrue(NativeLibrary.status().loaded(), NativeLibrary.status().detail());
        String old = System.getProperty(NativeBackendProvider.ISA_PROPERTY);
        try {
            System.setProperty(NativeBackendProvider.ISA_PROPERTY, "avx2");
            assertTrue(new NativeBackendProvider().probe().available());
            assertEquals(Isa.AVX2, ((NativeBackend) new NativeBackendProvider().create()).isa());
            System.setProperty(NativeBackendProvider.ISA_PROPERTY, "sse9");
            BackendProvider.Probe bad = new NativeBackendProvider().probe();
            assertFalse(bad.available());
            assertTrue(bad.detail().contains("sse9"), bad.detail());
            if (!NativeBackend.runnable().contains(Isa.AVX512)) {
                System.setProperty(NativeBackendProvider.ISA_PROPERTY, "avx512");
                assertFalse(new NativeBackendProvider().probe().available());
                assertThrows(IllegalStateException.class, () -> new NativeBackend(Isa.AVX512, 1));
            }
        } finally {
            if (old == null) {
                System.clearProperty(NativeBackendProvider.ISA_PROPERTY);
            } else {
                System.setProperty(NativeBackendProvider.ISA_PROPERTY, old);
            }
        }
    }
}
