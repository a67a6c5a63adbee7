package dev.sprout.data;

import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Fashion-MNIST loading: small generated fixtures, the built-in subset, and the real files when installed. */
class FashionMnistTest {
    @TempDir
    Path dir;

    /** Writes a fake Fashion-MNIST folder: n train and m test images whose pixel (r, c) of image i is (i+r+c)%256. */
    private Path fixture(int n, int m, boolean gzip) {
        write(dir, FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, n, gzip);
        write(dir, FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS, m, gzip);
        return dir;
    }

    private static void write(Path dir, String images, String labels, int n, boolean gzip) {
        byte[] px = new byte[n * 28 * 28], lb = new byte[n];
        for (int i = 0; i < n; i++) {
            lb[i] = (byte) (i % 10);
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    px[(i * 28 + r) * 28 + c] = (byte) (i + r + c);
                }
            }
        }
        String ext = gzip ? ".gz" : "";
        Idx.write(dir.resolve(images + ext), new Idx.Data(new int[] {n, 28, 28}, px), gzip);
        Idx.write(dir.resolve(labels + ext), new Idx.Data(new int[] {n}, lb), gzip);
    }

    private static void assertMessage(DataException e, String source, String... fragments) {
        assertTrue(e.getMessage().startsWith(source + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void loadsAFolderOfPlainOrGzipFiles() throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            Path d = dir.resolve(gzip ? "gz" : "plain");
            Files.createDirectories(d);
            write(d, FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, 30, gzip);
            write(d, FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS, 12, !gzip); // mixed on purpose
            TrainTest tt = FashionMnist.load(d);
            Dataset train = tt.train();
            assertEquals(30, train.size());
            assertEquals(12, tt.test().size());
            assertArrayEquals(new int[] {30, 1, 28, 28}, train.inputs().shape().toArray());
            assertEquals(10, train.numClasses());
            assertEquals("Ankle boot", train.classNames().get(9));
            assertEquals(7, train.label(17));
            // pixel (r=2, c=3) of image 17 is 22, scaled to [0, 1]
            assertEquals(22 / 255f, (float) train.inputs().get(17, 0, 2, 3));
            assertEquals(0f, (float) train.inputs().get(0, 0, 0, 0));
        }
    }

    @Test
    void pixelScalingMapsEveryByteExactly() {
        byte[] all = new byte[256];
        for (int v = 0; v < 256; v++) {
            all[v] = (byte) v;
        }
        float[] f = FashionMnist.toUnit(all);
        for (int v = 0; v < 256; v++) {
            assertEquals(v / 255f, f[v]);
        }
        assertEquals(0f, f[0]);
        assertEquals(1f, f[255]);
    }

    @Test
    void missingFolderSaysWhereAndHowToGetIt() {
        Path nowhere = dir.resolve("absent");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(nowhere));
        assertMessage(e, nowhere.toString(), "folder not found", "apt-get install dataset-fashion-mnist", "--data DIR");
    }

    @Test
    void missingFileSaysWhichOne() throws IOException {
        fixture(10, 10, true);
        Files.delete(dir.resolve(FashionMnist.TEST_LABELS + ".gz"));
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertMessage(e, dir.resolve(FashionMnist.TEST_LABELS + ".gz").toString(), "file not found",
                FashionMnist.TEST_LABELS, "apt-get install dataset-fashion-mnist", "--data DIR");
    }

    @Test
    void labelOutOfRangeNamesTheLabelsFile() {
        fixture(10, 10, false);
        Path labels = dir.resolve(FashionMnist.TRAIN_LABELS);
        byte[] lb = {0, 1, 2, 3, 4, 11, 6, 7, 8, 9};
        Idx.write(labels, new Idx.Data(new int[] {10}, lb), false);
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertMessage(e, labels.toString(), "label 11 at index 5 outside [0, 10)");
    }

    @Test
    void rankAndSizeMismatchesNameTheFile() {
        fixture(10, 10, false);
        Path images = dir.resolve(FashionMnist.TEST_IMAGES);
        Idx.write(images, new Idx.Data(new int[] {10 * 784}, new byte[10 * 784]), false);
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertMessage(e, images.toString(), "rank mismatch: expected rank 3, header declares rank 1");

        Idx.write(images, new Idx.Data(new int[] {10, 32, 32}, new byte[10 * 1024]), false);
        e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertMessage(e, images.toString(), "images are 32x32", "28x28");

        Idx.write(images, new Idx.Data(new int[] {9, 28, 28}, new byte[9 * 784]), false);
        e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertMessage(e, dir.resolve(FashionMnist.TEST_LABELS).toString(), "10 labels for the 9 images");
    }

    @Test
    void truncatedRealSizedHeaderGivesTheDocumentedMessage() throws IOException {
        fixture(10, 10, true);
        Path images = dir.resolve(FashionMnist.TRAIN_IMAGES + ".gz");
        ByteBuffer b = ByteBuffer.allocate(16 + 1234);
        b.putInt(0x00000803).putInt(60000).putInt(28).putInt(28);
        Files.write(images, IdxTest.gzipOf(b.array()));
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(dir));
        assertMessage(e, images.toString(), "truncated: header promises 47040000 bytes of data, found 1234");
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz: truncated: header promises 47040000 bytes of"
                + " data, found 1234"), e.getMessage());
    }

    @Test
    void builtinSubsetIsBalancedAndLicensed() {
        TrainTest tt = FashionMnist.builtin();
        Dataset train = tt.train(), test = tt.test();
        assertEquals(FashionMnist.BUILTIN_TRAIN, train.size());
        assertEquals(FashionMnist.BUILTIN_TEST, test.size());
        int[] trainCounts = new int[10], testCounts = new int[10];
        Arrays.fill(trainCounts, 500);
        Arrays.fill(testCounts, 100);
        assertArrayEquals(trainCounts, train.classCounts());
        assertArrayEquals(testCounts, test.classCounts());
        assertArrayEquals(new int[] {5000, 1, 28, 28}, train.inputs().shape().toArray());
        assertUnitRange(train.inputs());
        assertUnitRange(test.inputs());
        String licence = FashionMnist.builtinLicence();
        assertTrue(licence.contains("Zalando SE"), licence);
        assertTrue(licence.contains("Permission is hereby granted, free of charge"), licence);
    }

    @Test
    void realDatasetLoadsFastWithTheKnownCounts() {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST not installed at "
                + FashionMnist.DEFAULT_DIR + " (apt-get install dataset-fashion-mnist); skipping the real-data test");
        long t0 = System.nanoTime();
        TrainTest tt = FashionMnist.load();
        double seconds = (System.nanoTime() - t0) * 1e-9;
        assertEquals(60000, tt.train().size());
        assertEquals(10000, tt.test().size());
        int[] six = new int[10], one = new int[10];
        Arrays.fill(six, 6000);
        Arrays.fill(one, 1000);
        assertArrayEquals(six, tt.train().classCounts());
        assertArrayEquals(one, tt.test().classCounts());
        float[] x = tt.train().inputs().storage().floats();
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (float v : x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertEquals(0f, lo);
        assertEquals(1f, hi);
        System.out.printf("FashionMnist.load: 70000 images in %.2f s%n", seconds);
        assertTrue(seconds < MAX_LOAD_SECONDS, "loading took " + seconds + " s");

        // every built-in example is a real example with the same label
        checkSubsetOf(FashionMnist.builtin().train(), tt.train());
        checkSubsetOf(FashionMnist.builtin().test(), tt.test());
    }

    /** Budget for reading and decoding 70,000 gzip images (about 0.6 s on a 2-core CI machine). */
    private static final double MAX_LOAD_SECONDS = 2;

    private static void checkSubsetOf(Dataset sub, Dataset full) {
        Map<Integer, List<Integer>> byHash = new HashMap<>();
        float[] f = full.inputs().storage().floats();
        int row = full.exampleSize();
        for (int i = 0; i < full.size(); i++) {
            byHash.computeIfAbsent(rowHash(f, i, row), k -> new ArrayList<>()).add(i);
        }
        float[] s = sub.inputs().storage().floats();
        for (int j = 0; j < sub.size(); j++) {
            boolean found = false;
            for (int i : byHash.getOrDefault(rowHash(s, j, row), List.of())) {
                if (full.label(i) == sub.label(j)
                        && Arrays.equals(f, i * row, (i + 1) * row, s, j * row, (j + 1) * row)) {
                    found = true;
                    break;
                }
            }
            assertTrue(found, "built-in example " + j + " of " + sub.name() + " is not in " + full.name());
        }
    }

    private static int rowHash(float[] a, int r, int row) {
        int h = 1;
        for (int k = r * row; k < (r + 1) * row; k++) {
            h = 31 * h + Float.floatToIntBits(a[k]);
        }
        return h;
    }

    private static void assertUnitRange(Tensor t) {
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (float v : t.storage().floats()) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertEquals(0f, lo);
        assertEquals(1f, hi);
    }
}
