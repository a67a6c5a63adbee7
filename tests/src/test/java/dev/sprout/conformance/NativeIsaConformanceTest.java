package dev.sprout.conformance;

import dev.sprout.backend.Backend;
import dev.sprout.backend.nativecpu.Isa;
import dev.sprout.backend.nativecpu.NativeBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The conformance suite ({@link BackendConformanceTest#kernels()}) on every ISA variant of the native backend this
 * CPU runs, not only the one automatic selection picks: on an AVX-512 machine both the AVX2 and the AVX-512 kernels
 * are checked, each single-threaded and with two threads. Skipped, with the probe's reason, where the library is
 * unavailable.
 */
class NativeIsaConformanceTest {

    @TestFactory
    List<DynamicNode> everyNativeIsaVariant() {
        List<Isa> isas = NativeBackend.runnable();
        List<DynamicNode> nodes = new ArrayList<>();
        int variants = 0;
        for (Isa isa : isas) {
            for (int threads : new int[] {1, 2}) {
                List<DynamicNode> tests = new ArrayList<>();
                for (Map.Entry<String, Consumer<Backend>> e : BackendConformanceTest.kernels().entrySet()) {
                    tests.add(DynamicTest.dynamicTest(e.getKey(), () -> e.getValue().accept(new NativeBackend(isa, threads))));
                }
                nodes.add(DynamicContainer.dynamicContainer("native-" + isa.label() + "-" + threads + "t", tests));
                variants++;
            }
        }
        if (nodes.isEmpty()) {
            nodes.add(DynamicTest.dynamicTest("native unavailable",
                    () -> Assumptions.assumeTrue(false, "native backend unavailable: " + NativeBackend.libraryStatus())));
        }
        assertEquals(2 * isas.size(), variants, "every runnable ISA variant is checked");
        return nodes;
    }
}
