/*
 * Makes the built-in Fashion-MNIST subset that engine-java ships as classpath resources
 * (dev.sprout.data.FashionMnist.builtin()).
 *
 * What it writes, into engine-java/src/main/resources/dev/sprout/data/fashion-mnist-subset/:
 *   train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz   5,000 training images, 500 per class
 *   t10k-images-idx3-ubyte.gz,  t10k-labels-idx1-ubyte.gz    1,000 test images, 100 per class
 *   LICENSE-fashion-mnist.txt                                 the dataset's licence notice (MIT, Zalando SE),
 *                                                             copied from the Debian package's copyright file
 *
 * Selection: for every class, in the order of the original file, a partial Fisher-Yates shuffle of that class's
 * indices with java.util.SplittableRandom(SEED) (bounded draws built on nextLong(), whose output the JDK
 * specifies, so the choice does not depend on the JDK version) takes the first 500 (train) / 100 (test); the
 * chosen indices are then sorted, so the subset keeps the original order. Training classes are drawn first,
 * 0..9, then test classes, 0..9, from the same generator. Output gzip uses the best compression level and a fixed
 * header (no time stamp): running it again gives the same bytes.
 *
 * How it was run (JDK 17, from the repository root, with the Debian package dataset-fashion-mnist installed):
 *
 *     java tools/MakeBuiltinSubset.java
 *
 * Arguments (optional): [SOURCE_DIR [OUTPUT_DIR [COPYRIGHT_FILE]]], defaults
 *     /usr/share/datasets/fashion-mnist
 *     engine-java/src/main/resources/dev/sprout/data/fashion-mnist-subset
 *     /usr/share/doc/dataset-fashion-mnist/copyright
 *
 * It prints the size and SHA-256 of every file it writes. Only the JDK is used (single-file source launch).
 */

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

public class MakeBuiltinSubset {
    static final long SEED = 20170825L; // Fashion-MNIST's release date
    static final int CLASSES = 10;
    static final int TRAIN_PER_CLASS = 500;
    static final int TEST_PER_CLASS = 100;

    public static void main(String[] args) throws Exception {
        Path src = Path.of(args.length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist");
        Path out = Path.of(args.length > 1 ? args[1]
                : "engine-java/src/main/resources/dev/sprout/data/fashion-mnist-subset");
        Path copyright = Path.of(args.length > 2 ? args[2] : "/usr/share/doc/dataset-fashion-mnist/copyright");
        Files.createDirectories(out);
        SplittableRandom rng = new SplittableRandom(SEED);
        subset(src, out, "train", TRAIN_PER_CLASS, rng);
        subset(src, out, "t10k", TEST_PER_CLASS, rng);
        writeNotice(out.resolve("LICENSE-fashion-mnist.txt"), copyright);
    }

    static void subset(Path src, Path out, String prefix, int perClass, SplittableRandom rng) throws Exception {
        byte[] images = readIdx(src.resolve(prefix + "-images-idx3-ubyte.gz"), 3);
        byte[] labels = readIdx(src.resolve(prefix + "-labels-idx1-ubyte.gz"), 1);
        int n = labels.length - 8, pixels = 28 * 28;
        if (images.length - 16 != (long) n * pixels) {
            throw new IllegalStateException(prefix + ": " + n + " labels but " + (images.length - 16) + " pixel bytes");
        }
        int[] chosen = new int[CLASSES * perClass];
        int k = 0;
        for (int c = 0; c < CLASSES; c++) {
            int[] members = new int[n];
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (labels[8 + i] == c) {
                    members[m++] = i;
                }
            }
            if (m < perClass) {
                throw new IllegalStateException(prefix + ": class " + c + " has only " + m + " examples");
            }
            for (int j = 0; j < perClass; j++) { // partial Fisher-Yates: members[j] drawn from members[j..m)
                int r = j + bounded(rng, m - j);
                int t = members[j];
                members[j] = members[r];
                members[r] = t;
                chosen[k++] = members[j];
            }
        }
        Arrays.sort(chosen);
        int s = chosen.length;
        byte[] subImages = new byte[s * pixels], subLabels = new byte[s];
        for (int j = 0; j < s; j++) {
            System.arraycopy(images, 16 + chosen[j] * pixels, subImages, j * pixels, pixels);
            subLabels[j] = labels[8 + chosen[j]];
        }
        writeIdx(out.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {s, 28, 28}, subImages);
        writeIdx(out.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {s}, subLabels);
    }

    /** Uniform in [0, bound) from nextLong() alone (rejection, as java.util.Random.nextInt does). */
    static int bounded(SplittableRandom rng, int bound) {
        long bits, val;
        do {
            bits = rng.nextLong() >>> 1;
            val = bits % bound;
        } while (bits - val + (bound - 1) < 0);
        return (int) val;
    }

    /** The whole (gunzipped) IDX file, after checking its magic number. */
    static byte[] readIdx(Path file, int rank) throws IOException {
        byte[] b;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            b = in.readAllBytes();
        }
        if (b.length < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != rank) {
            throw new IOException(file + ": not an unsigned-byte IDX file of rank " + rank);
        }
        return b;
    }

    static void writeIdx(Path file, int[] dims, byte[] data) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes, 1 << 16) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            byte[] header = new byte[4 + 4 * dims.length];
            header[2] = 0x08;
            header[3] = (byte) dims.length;
            for (int i = 0; i < dims.length; i++) {
                for (int j = 0; j < 4; j++) {
                    header[4 + 4 * i + j] = (byte) (dims[i] >>> (24 - 8 * j));
                }
            }
            gz.write(header);
            gz.write(data);
        }
        write(file, bytes.toByteArray());
    }

    static void writeNotice(Path file, Path copyright) throws Exception {
        String text = "Fashion-MNIST subset shipped with Sprout (dev.sprout.data.FashionMnist.builtin())\n"
                + "\n"
                + "The files in this folder are a class-balanced subset (5,000 training and 1,000 test images,\n"
                + "500 and 100 per class) of Fashion-MNIST by Han Xiao, Kashif Rasul and Roland Vollgraf,\n"
                + "Zalando Research: https://github.com/zalandoresearch/fashion-mnist\n"
                + "Copyright (c) 2017 Zalando SE, https://tech.zalando.com\n"
                + "Made by tools/MakeBuiltinSubset.java from the Debian package dataset-fashion-mnist.\n"
                + "The images and labels are unchanged; only the selection is new.\n"
                + "\n"
                + "The dataset is distributed under the MIT (Expat) licence. The notice below is copied verbatim\n"
                + "from the Debian package's copyright file (" + copyright + "):\n"
                + "\n"
                + Files.readString(copyright, StandardCharsets.UTF_8);
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    static void write(Path file, byte[] bytes) throws Exception {
        Files.write(file, bytes);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        System.out.printf("%-40s %9d bytes  sha256 %s%n", file.getFileName(), bytes.length, sha);
    }
}
