package dev.sprout.io;

import dev.sprout.autograd.Autograd;
import dev.sprout.io.CheckpointException.Kind;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Module;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.Adam;
import dev.sprout.optim.Optimizer;
import dev.sprout.optim.SGD;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints round-trip bit for bit, refuse damaged or foreign files by name, and survive a crash mid-write. */
class CheckpointTest {
    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------------------ helpers

    /** Raw bits of every element, so -0.0 and NaN payloads count. */
    private static long[] bits(Tensor t) {
        Tensor c = t.contiguous();
        long[] out = new long[t.dtype() == DType.C64 ? 2 * t.numel() : t.numel()];
        switch (t.dtype()) {
            case F64 -> {
                double[] d = c.toDoubleArray();
                for (int i = 0; i < d.length; i++) {
                    out[i] = Double.doubleToRawLongBits(d[i]);
                }
            }
            case F32 -> {
                float[] f = c.toFloatArray();
                for (int i = 0; i < f.length; i++) {
                    out[i] = Float.floatToRawIntBits(f[i]);
                }
            }
            case C64 -> {
                float[] f = c.toComplexArray();
                for (int i = 0; i < f.length; i++) {
                    out[i] = Float.floatToRawIntBits(f[i]);
                }
            }
        }
        return out;
    }

    private static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual, String what) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), what + " names");
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor a = actual.get(e.getKey());
            assertEquals(e.getValue().dtype(), a.dtype(), what + " " + e.getKey());
            assertEquals(e.getValue().shape(), a.shape(), what + " " + e.getKey());
            assertArrayEquals(bits(e.getValue()), bits(a), what + " " + e.getKey() + " bits");
        }
    }

    private static void assertSameModel(Module expected, Module actual) {
        assertEquals(Modules.describe(expected), Modules.describe(actual));
        assertSameTensors(expected.namedParameters(), actual.namedParameters(), "parameter");
        assertSameTensors(expected.namedBuffers(), actual.namedBuffers(), "buffer");
    }

    private static Sequential mlp(Rng r, int in, int hidden, int out) {
        return new Sequential(new Linear(in, hidden, true, r, DType.F32), Act.tanh(), new Linear(hidden, out, true, r, DType.F32));
    }

    private static void trainSteps(Module model, Optimizer opt, Tensor x, int[] labels, int steps) {
        for (int k = 0; k < steps; k++) {
            opt.zeroGrad();
            Losses.crossEntropy(model.forward(x), labels).backward();
            opt.step();
        }
    }

    private static int[] labels(Rng r, int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }

    private static Map<String, String> meta(int epoch) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("epoch", Integer.toString(epoch));
        m.put("seed", "42");
        m.put("config", "hidden=5\nlr=0.01; naïve ✓");
        return m;
    }

    /** Checks that a continued step from the restored state matches the original's, bit for bit. */
    private static void assertContinuesIdentically(Module a, Optimizer oa, Module b, Optimizer ob, Tensor x, int[] y) {
        trainSteps(a, oa, x, y, 1);
        trainSteps(b, ob, x, y, 1);
        assertSameModel(a, b);
        assertSameTensors(oa.stateTensors(), ob.stateTensors(), "optimizer state");
    }

    // ------------------------------------------------------------------------------------------ round trips

    @Test
    void mlpRoundTripsBitExactWithOptimizerAndMetadata() {
        Rng r = new Rng(1);
        Sequential model = mlp(r, 6, 5, 3);
        Adam opt = new Adam(model, 0.01);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 8, 6);
        int[] y = labels(r, 8, 3);
        trainSteps(model, opt, x, y, 3);
        try (Autograd.Scope s = Autograd.noGrad()) {
            model.namedParameters().get("2.bias").setFlat(0, -0.0);
        }
        Path file = dir.resolve("mlp.ck");
        Checkpoint.save(file, model, opt, meta(3));

        Checkpoint ck = Checkpoint.load(file);
        assertEquals(Checkpoint.FORMAT_VERSION, ck.formatVersion());
        assertEquals(meta(3), ck.metadata());
        assertEquals("3", ck.metadata("epoch", null));
        assertEquals("adam", ck.optimizerType());
        assertEquals(opt.hyperParameters(), ck.optimizerHyperParameters());
        assertEquals(3, ck.optimizerStepCount());
        assertSameTensors(opt.stateTensors(), ck.optimizerState(), "optimizer state");

        Module rebuilt = ck.model(new Rng(999));
        assertSameModel(model, rebuilt);
        assertEquals(Float.floatToRawIntBits(-0.0f), bits(rebuilt.namedParameters().get("2.bias"))[0], "-0.0 kept");
        Optimizer restored = ck.optimizer(rebuilt);
        assertEquals(3, restored.stepCount());
        assertEquals(opt.hyperParameters(), restored.hyperParameters());
        assertContinuesIdentically(model, opt, rebuilt, restored, x, y);
    }

    @Test
    void cnnWithBatchNormRoundTripsBitExact() {
        Rng r = new Rng(2);
        Sequential model = new Sequential(new Conv2d(1, 4, 3, 1, 1, true, r, DType.F32), BatchNorm.of2d(4), Act.relu(),
                Pool2d.max(2), new Flatten(), new Linear(4 * 4 * 4, 3, true, r, DType.F32));
        SGD opt = new SGD(model, 0.05, 0.9, 0, true, 1e-4);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 6, 1, 8, 8);
        int[] y = labels(r, 6, 3);
        trainSteps(model, opt, x, y, 2);
        assertTrue(model.namedBuffers().get("1.running_mean").abs().sum().item() > 0, "running statistics moved");
        Path file = dir.resolve("cnn.ck");
        Checkpoint.save(file, model, opt, Map.of("epoch", "2"));

        Checkpoint ck = Checkpoint.load(file);
        Module rebuilt = ck.model(new Rng(7));
        assertSameModel(model, rebuilt);
        assertEquals(List.of("1.running_mean", "1.running_var"), List.copyOf(rebuilt.namedBuffers().keySet()));
        assertArrayEquals(bits(model.predict(x)), bits(rebuilt.predict(x)), "evaluation output");
        assertContinuesIdentically(model, opt, rebuilt, ck.optimizer(rebuilt), x, y);
    }

    @Test
    void aGrownModelIsRebuiltWithItsGrownWidths() {
        Rng r = new Rng(3);
        Sequential model = mlp(r, 4, 3, 2);
        Adam opt = new Adam(model, 0.01);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 10, 4);
        int[] y = labels(r, 10, 2);
        trainSteps(model, opt, x, y, 2);

        // Widen the hidden layer 3 -> 5: neurons 3 and 4 are new; the next layer gets two new input columns.
        int[] from = {0, 1, 2, -1, -1};
        Linear l0 = (Linear) model.get(0), l2 = (Linear) model.get(2);
        Tensor w0 = Tensor.randn(r, DType.F32, 0.1, 5, 4), b0 = Tensor.zeros(DType.F32, 5), w2 = Tensor.zeros(DType.F32, 2, 5);
        try (Autograd.Scope s = Autograd.noGrad()) {
            w0.slice(0, 0, 3).copy_(l0.weight());
            b0.slice(0, 0, 3).copy_(l0.parameter("bias"));
            w2.slice(1, 0, 3).copy_(l2.weight());
        }
        l0.replace(Map.of("weight", w0, "bias", b0), Map.of());
        l2.replaceParameter("weight", w2);
        opt.remap("0.weight", w0, 0, from);
        opt.remap("0.bias", b0, 0, from);
        opt.remap("2.weight", w2, 1, from);
        trainSteps(model, opt, x, y, 1);

        Path file = dir.resolve("grown.ck");
        Checkpoint.save(file, model, opt, meta(3));
        Checkpoint ck = Checkpoint.load(file);
        Sequential rebuilt = (Sequential) ck.model(new Rng(4));
        assertEquals(5, ((Linear) rebuilt.get(0)).out());
        assertEquals(5, ((Linear) rebuilt.get(2)).in());
        assertSameModel(model, rebuilt);
        Optimizer restored = ck.optimizer(rebuilt);
        assertArrayEquals(new int[] {5, 4}, restored.state("0.weight").get(Adam.EXP_AVG).shape().toArray());
        assertContinuesIdentically(model, opt, rebuilt, restored, x, y);

        // A model of the original widths cannot take the grown checkpoint.
        Sequential small = mlp(new Rng(5), 4, 3, 2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ck.restoreInto(small, null));
        assertEquals(Kind.MISMATCH, e.kind());
        assertEquals("checkpoint " + file + " is for linear(in=4,out=5,bias=true) at 0 but the model has linear(in=4,out=3,bias=true)",
                e.getMessage());
    }

    @Test
    void restoreIntoAnExistingModelAndOptimizer() {
        Rng r = new Rng(6);
        Sequential model = mlp(r, 6, 5, 3);
        Adam opt = new Adam(model, 0.02);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 8, 6);
        int[] y = labels(r, 8, 3);
        trainSteps(model, opt, x, y, 2);
        Path file = dir.resolve("resume.ck");
        Checkpoint.save(file, model, opt, null);

        Sequential other = mlp(new Rng(60), 6, 5, 3);
        Adam otherOpt = new Adam(other, 0.5);
        trainSteps(other, otherOpt, x, y, 5);
        Checkpoint ck = Checkpoint.load(file);
        assertTrue(ck.metadata().isEmpty());
        ck.restoreInto(other, otherOpt);
        assertSameModel(model, other);
        assertEquals(2, otherOpt.stepCount());
        assertEquals(0.02, otherOpt.learningRate());
        assertContinuesIdentically(model, opt, other, otherOpt, x, y);

        SGD sgd = new SGD(other, 0.1, 0.9);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ck.restoreInto(other, sgd));
        assertEquals(Kind.MISMATCH, e.kind());
        assertTrue(e.getMessage().contains("adam") && e.getMessage().contains("sgd"), e.getMessage());
    }

    @Test
    void aModelEndingInAnActivationRoundTrips() {
        Sequential model = new Sequential(new Linear(3, 2, true, new Rng(16), DType.F32), Act.relu());
        Path file = dir.resolve("relu-last.ck");
        Checkpoint.save(file, model, null, null);
        assertSameModel(model, Checkpoint.load(file).model(new Rng(0)));
    }

    @Test
    void aCheckpointWithoutOptimizer() {
        Sequential model = mlp(new Rng(8), 3, 2, 2);
        Path file = dir.resolve("plain.ck");
        Checkpoint.save(file, model, null, Map.of("note", ""));
        Checkpoint ck = Checkpoint.load(file);
        assertFalse(ck.hasOptimizer());
        assertEquals(Map.of("note", ""), ck.metadata());
        assertSameModel(model, ck.model(new Rng(0)));
        assertEquals(Kind.MISMATCH, assertThrows(CheckpointException.class, () -> ck.optimizer(model)).kind());
    }

    // ------------------------------------------------------------------------------------------ mismatches

    @Test
    void architectureMismatchNamesTheDifferenceAndChangesNothing() {
        Path file = dir.resolve("arch.ck");
        Checkpoint.save(file, mlp(new Rng(9), 8, 6, 2), null, null);
        Checkpoint ck = Checkpoint.load(file);

        Sequential narrower = mlp(new Rng(10), 8, 5, 2);
        Map<String, long[]> before = new LinkedHashMap<>();
        narrower.namedParameters().forEach((k, v) -> before.put(k, bits(v)));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ck.restoreInto(narrower, null));
        assertEquals(Kind.MISMATCH, e.kind());
        assertEquals("checkpoint " + file + " is for linear(in=8,out=6,bias=true) at 0 but the model has linear(in=8,out=5,bias=true)",
                e.getMessage());
        narrower.namedParameters().forEach((k, v) -> assertArrayEquals(before.get(k), bits(v), k));

        Sequential shorter = new Sequential(new Linear(8, 6, true, new Rng(11), DType.F32), Act.tanh());
        e = assertThrows(CheckpointException.class, () -> ck.restoreInto(shorter, null));
        assertEquals("checkpoint " + file + " has linear(in=6,out=2,bias=true) at 2 but the model has no module there", e.getMessage());

        Sequential f64 = new Sequential(new Linear(8, 6, true, new Rng(12), DType.F64), Act.tanh(),
                new Linear(6, 2, true, new Rng(12), DType.F64));
        e = assertThrows(CheckpointException.class, () -> ck.restoreInto(f64, null));
        assertTrue(e.getMessage().contains("0.weight as f32[6, 8] but the model has f64[6, 8]"), e.getMessage());
    }

    // ------------------------------------------------------------------------------------------ damaged files

    private Path saved(String name) {
        Path file = dir.resolve(name);
        Sequential model = mlp(new Rng(13), 6, 5, 3);
        Checkpoint.save(file, model, new SGD(model, 0.1, 0.9), meta(1));
        return file;
    }

    private static CheckpointException loadFails(Path file, Kind kind) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file));
        assertEquals(kind, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void aFlippedByteIsACrcError() throws IOException {
        Path file = saved("flip.ck");
        byte[] b = Files.readAllBytes(file);
        for (int at : new int[] {b.length / 2, 9, b.length - Checkpoint.TRAILER_BYTES - 1}) {
            byte[] c = b.clone();
            c[at] ^= 0x10;
            Files.write(file, c);
            CheckpointException e = loadFails(file, Kind.CORRUPT);
            assertTrue(e.getMessage().contains("CRC32 mismatch"), e.getMessage());
        }
    }

    @Test
    void aTruncatedFileIsReportedAsTruncated() throws IOException {
        Path file = saved("cut.ck");
        byte[] b = Files.readAllBytes(file);
        for (int len : new int[] {b.length - 1, b.length / 2, 100, 12, 5, 0}) {
            Files.write(file, Arrays.copyOf(b, len));
            CheckpointException e = loadFails(file, Kind.TRUNCATED);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        Files.write(file, Arrays.copyOf(b, b.length / 2));
        assertTrue(loadFails(file, Kind.TRUNCATED).getMessage().contains(b.length / 2 + " of " + b.length + " bytes"));
    }

    @Test
    void aForeignFileShowsTheMagicItFound() throws IOException {
        Path file = dir.resolve("image.png");
        Files.write(file, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
        CheckpointException e = loadFails(file, Kind.NOT_A_CHECKPOINT);
        assertEquals("checkpoint " + file + ": not a Sprout checkpoint: it starts with 89 50 4E 47 0D 0A 1A 0A"
                + " (\"\\x89PNG\\x0D\\x0A\\x1A\\x0A\") where a checkpoint has \"SPROUTCK\"", e.getMessage());
        Files.writeString(file, "SPROUTCX and more");
        loadFails(file, Kind.NOT_A_CHECKPOINT);
    }

    @Test
    void aNewerFormatVersionIsRefused() throws IOException {
        Path file = saved("v2.ck");
        byte[] b = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(8, 2);
        CRC32 crc = new CRC32();
        crc.update(b, 0, b.length - Checkpoint.TRAILER_BYTES);
        bb.putInt(b.length - 8, (int) crc.getValue());
        Files.write(file, b);
        CheckpointException e = loadFails(file, Kind.UNSUPPORTED_VERSION);
        assertTrue(e.getMessage().contains("version 2") && e.getMessage().contains("reads version 1"), e.getMessage());
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("nowhere.ck");
        assertEquals("checkpoint " + file + " does not exist", loadFails(file, Kind.MISSING).getMessage());
    }

    // ------------------------------------------------------------------------------------------ crash safety

    @Test
    void aCrashMidWriteLeavesThePreviousCheckpointIntact() throws IOException {
        Rng r = new Rng(14);
        Sequential model = mlp(r, 6, 5, 3);
        Adam opt = new Adam(model, 0.01);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 8, 6);
        int[] y = labels(r, 8, 3);
        trainSteps(model, opt, x, y, 1);
        Path file = dir.resolve("safe.ck");
        Checkpoint.save(file, model, opt, meta(1));
        byte[] first = Files.readAllBytes(file);
        Map<String, Tensor> params1 = Checkpoint.load(file).parameters();

        trainSteps(model, opt, x, y, 1);
        for (long failAfter : new long[] {0, 10, 300, first.length / 2, first.length - 1}) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Checkpoint.save(file, model, opt, meta(2), failAfter));
            assertEquals(Kind.IO, e.kind());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertArrayEquals(first, Files.readAllBytes(file), "previous checkpoint untouched after a crash at byte " + failAfter);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "no temporary file left behind");
        }

        // A real crash leaves its temporary file; it does not disturb reading or the next save.
        Path stray = dir.resolve(".safe.ck.12345.tmp");
        Files.write(stray, Arrays.copyOf(first, first.length / 3));
        Checkpoint ck = Checkpoint.load(file);
        assertEquals("1", ck.metadata("epoch", null));
        assertSameTensors(params1, ck.parameters(), "parameter");
        Checkpoint.save(file, model, opt, meta(2));
        assertEquals("2", Checkpoint.load(file).metadata("epoch", null));
        assertSameModel(model, Checkpoint.load(file).model(new Rng(0)));
    }

    @Test
    void savingIntoAMissingFolderFailsWithoutTouchingAnything() {
        Path file = dir.resolve("no-such-folder").resolve("x.ck");
        Sequential model = mlp(new Rng(15), 2, 2, 2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.save(file, model, null, null));
        assertEquals(Kind.IO, e.kind());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
