package dev.sprout.backend;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendsTest {
    @Test
    void javaProviderIsDiscoveredAndAvailable() {
        List<Backends.Status> all = Backends.probeAll();
        assertFalse(all.isEmpty());
        Backends.Status java = all.stream().filter(s -> s.name().equals("java")).findFirst().orElseThrow();
        assertTrue(java.available(), java.detail());
        assertEquals(100, java.rank());
    }

    @Test
    void explicitSelectionOfJavaWorksAndLogsIt() {
        Backends.Selection s = Backends.select("java");
        assertEquals("java", s.backend().name());
        assertTrue(s.log().get(0).contains("backend java (requested)"), s.log().toString());
    }

    @Test
    void autoSelectionPicksTheBestAvailableAndNamesSkippedOnes() {
        Backends.Selection s = Backends.select("auto");
        // every provider ranked above the chosen one must have been logged as skipped, with a reason
        for (BackendProvider p : Backends.providers()) {
            if (p.rank() > 100 && !p.probe().available()) {
                assertTrue(s.log().stream().anyMatch(l -> l.contains("skipped backend " + p.name())), s.log().toString());
            }
        }
        assertTrue(s.log().get(s.log().size() - 1).contains("(auto)"));
    }

    @Test
    void unknownBackendFailsLoudlyWithTheKnownNames() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.select("tpu"));
        assertTrue(e.getMessage().contains("unknown backend 'tpu'") && e.getMessage().contains("java"), e.getMessage());
    }
}
