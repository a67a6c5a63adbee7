package dev.sprout.data;

import dev.sprout.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando Research, 2017; MIT licence): 28x28 grey-scale images of
 * clothing in 10 classes, 60,000 for training and 10,000 for testing.
 *
 * <p>{@link #load(Path)} reads the four IDX files from a folder (the Debian package {@code dataset-fashion-mnist}
 * installs them in {@link #DEFAULT_DIR}); {@link #builtin()} reads a class-balanced subset of 5,000 training and
 * 1,000 test images shipped inside the jar (made by {@code tools/MakeBuiltinSubset.java}; licence notice in the
 * resource {@value #BUILTIN_LICENCE}).
 *
 * <p>Images become f32 {@code [N, 1, 28, 28]} with pixels scaled to [0, 1] ({@code byte / 255}).
 */
public final class FashionMnist {
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public static final int ROWS = 28;
    public static final int COLS = 28;
    public static final int NUM_CLASSES = 10;
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    /** Classpath folder of the built-in subset. */
    public static final String BUILTIN_DIR = "/dev/sprout/data/fashion-mnist-subset/";
    /** Classpath resource holding the dataset's licence notice. */
    public static final String BUILTIN_LICENCE = "/dev/sprout/data/fashion-mnist-subset/LICENSE-fashion-mnist.txt";
    public static final int BUILTIN_TRAIN = 5000;
    public static final int BUILTIN_TEST = 1000;

    private static final String HINT = "install it with `sudo apt-get install dataset-fashion-mnist` (files go to "
            + DEFAULT_DIR + ") or pass --data DIR naming a folder with " + TRAIN_IMAGES + "[.gz], " + TRAIN_LABELS
            + "[.gz], " + TEST_IMAGES + "[.gz] and " + TEST_LABELS + "[.gz]";

    private FashionMnist() {
    }

    /** Loads the full dataset from {@link #DEFAULT_DIR}. */
    public static TrainTest load() {
        return load(DEFAULT_DIR);
    }

    /**
     * Loads the full dataset from {@code dir}; each file may be plain or gzip ({@code name} or {@code name.gz}).
     *
     * @throws DataException naming the missing folder or file (with a hint how to get it) or the corrupt file
     */
    public static TrainTest load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DataException(dir.toString(), (Files.exists(dir) ? "not a folder" : "folder not found")
                    + ": Fashion-MNIST is not there; " + HINT);
        }
        Dataset train = read(find(dir, TRAIN_IMAGES), find(dir, TRAIN_LABELS), "fashion-mnist/train");
        Dataset test = read(find(dir, TEST_IMAGES), find(dir, TEST_LABELS), "fashion-mnist/test");
        return new TrainTest(train, test);
    }

    /** {@code dir/name}, or {@code dir/name.gz} when only that exists. */
    static Path find(Path dir, String name) {
        Path plain = dir.resolve(name), gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        throw new DataException(gz.toString(), "file not found (neither " + name + " nor " + name
                + ".gz is in " + dir + "): Fashion-MNIST is incomplete; " + HINT);
    }

    private static Dataset read(Path images, Path labels, String name) {
        Idx.Data x = Idx.read(images, 3);
        Idx.Data y = Idx.read(labels, 1);
        return build(x, images.toString(), y, labels.toString(), name);
    }

    /**
     * Loads the class-balanced subset shipped in the jar: 5,000 training images (500 per class) and 1,000 test
     * images (100 per class), drawn with a fixed seed from the full sets. Its licence notice:
     * {@link #builtinLicence()}.
     */
    public static TrainTest builtin() {
        Dataset train = readResource(TRAIN_IMAGES, TRAIN_LABELS, "fashion-mnist-subset/train");
        Dataset test = readResource(TEST_IMAGES, TEST_LABELS, "fashion-mnist-subset/test");
        return new TrainTest(train, test);
    }

    /** The text of the Fashion-MNIST licence notice shipped with the built-in subset. */
    public static String builtinLicence() {
        try (InputStream in = open(BUILTIN_LICENCE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Dataset readResource(String imagesName, String labelsName, String name) {
        String xs = BUILTIN_DIR + imagesName + ".gz", ys = BUILTIN_DIR + labelsName + ".gz";
        Idx.Data x, y;
        try (InputStream in = open(xs)) {
            x = Idx.read(in, "classpath:" + xs, 3);
        } catch (IOException e) {
            throw new DataException("classpath:" + xs, "cannot read: " + e, e);
        }
        try (InputStream in = open(ys)) {
            y = Idx.read(in, "classpath:" + ys, 1);
        } catch (IOException e) {
            throw new DataException("classpath:" + ys, "cannot read: " + e, e);
        }
        return build(x, "classpath:" + xs, y, "classpath:" + ys, name);
    }

    private static InputStream open(String resource) {
        InputStream in = FashionMnist.class.getResourceAsStream(resource);
        if (in == null) {
            throw new DataException("classpath:" + resource, "resource not found: the engine jar is incomplete"
                    + " (rebuild it; the resources come from engine-java/src/main/resources)");
        }
        return in;
    }

    /** Checks shapes and labels, scales pixels to [0, 1] and builds the dataset. */
    static Dataset build(Idx.Data x, String imagesSource, Idx.Data y, String labelsSource, String name) {
        if (x.dim(1) != ROWS || x.dim(2) != COLS) {
            throw new DataException(imagesSource, "images are " + x.dim(1) + "x" + x.dim(2) + ", Fashion-MNIST"
                    + " images are " + ROWS + "x" + COLS);
        }
        int n = x.dim(0);
        if (y.dim(0) != n) {
            throw new DataException(labelsSource, y.dim(0) + " labels for the " + n + " images of " + imagesSource);
        }
        byte[] lb = y.data();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = lb[i] & 0xFF;
            if (labels[i] >= NUM_CLASSES) {
                throw new DataException(labelsSource, "label " + labels[i] + " at index " + i + " outside [0, "
                        + NUM_CLASSES + ")");
            }
        }
        Tensor images = Dataset.owned(toUnit(x.data()), n, 1, ROWS, COLS);
        return Dataset.classificationOwned(name, images, labels, NUM_CLASSES, CLASS_NAMES);
    }

    /** Pixels {@code 0..255} to {@code [0, 1]}: a table lookup, so every pixel value maps to one exact float. */
    static float[] toUnit(byte[] pixels) {
        float[] table = new float[256];
        for (int v = 0; v < 256; v++) {
            table[v] = v / 255f;
        }
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            out[i] = table[pixels[i] & 0xFF];
        }
        return out;
    }
}
