package dev.sprout.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IDX reading and writing: round trips plain and gzip, and one clear error for each kind of damage. */
class IdxTest {
    @TempDir
    Path dir;

    /** A 3x4x5 array holding 0..59 and a few bytes above 127 (unsigned). */
    static Idx.Data sample() {
        byte[] b = new byte[60];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 4 + 10);
        }
        return new Idx.Data(new int[] {3, 4, 5}, b);
    }

    private Path put(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Asserts that reading {@code file} fails with a message naming the file and containing each fragment. */
    private static DataException fails(Path file, int rank, String... fragments) {
        DataException e = assertThrows(DataException.class, () -> Idx.read(file, rank));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        assertEquals(file.toString(), e.source());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void roundTripPlainAndGzipThroughFilesAndStreams() throws IOException {
        Idx.Data d = sample();
        Path plain = dir.resolve("a-idx3-ubyte"), gz = dir.resolve("a-idx3-ubyte.gz");
        Idx.write(plain, d, false);
        Idx.write(gz, d, true);
        assertEquals(4 + 12 + 60, Files.size(plain));
        assertEquals(0x1f, Files.readAllBytes(gz)[0] & 0xFF);
        assertEquals(d, Idx.read(plain));
        assertEquals(d, Idx.read(gz, 3));
        assertEquals(d, Idx.read(new ByteArrayInputStream(Idx.encode(d)), "mem", 3));
        assertEquals(d, Idx.read(new ByteArrayInputStream(Idx.encodeGzip(d)), "mem.gz", 0));
        assertEquals(10 + 59 * 4 - 256, (byte) d.get(59));
        assertEquals((10 + 59 * 4) & 0xFF, Idx.read(gz).get(59));
        // rank 1 and an empty array
        Idx.Data labels = new Idx.Data(new int[] {4}, new byte[] {0, 9, (byte) 255, 3});
        assertEquals(labels, Idx.read(new ByteArrayInputStream(Idx.encodeGzip(labels)), "l", 1));
        Idx.Data empty = new Idx.Data(new int[] {0, 28, 28}, new byte[0]);
        assertEquals(empty, Idx.read(put("empty-idx3", Idx.encode(empty)), 3));
        // gzip output is reproducible (no time stamp in the header)
        assertArrayEquals(Idx.encodeGzip(d), Idx.encodeGzip(sample()));
    }

    @Test
    void compressionIsDetectedByMagicBytesNotByName() throws IOException {
        Idx.Data d = sample();
        Path gzNamedPlain = put("looks-plain-idx3-ubyte", Idx.encodeGzip(d));
        Path plainNamedGz = put("looks-compressed-idx3-ubyte.gz", Idx.encode(d));
        assertEquals(d, Idx.read(gzNamedPlain, 3));
        assertEquals(d, Idx.read(plainNamedGz, 3));
    }

    @Test
    void wrongMagicNumber() throws IOException {
        byte[] b = Idx.encode(sample());
        b[0] = 0x12;
        b[1] = 0x34;
        fails(put("bad-magic-idx3-ubyte", b), 3, "not an IDX file", "wrong magic number", "0x12340803");
        // a PNG or text file is not mistaken for IDX either
        fails(put("text.gz", "hello world".getBytes()), 0, "wrong magic number");
    }

    @Test
    void unsupportedElementTypeNamesTheCodeFound() throws IOException {
        byte[] b = Idx.encode(sample());
        b[2] = 0x0D;
        fails(put("floats-idx3", b), 3, "unsupported element type 0x0D", "32-bit float", "only 0x08");
        b[2] = 0x42;
        fails(put("odd-idx3", b), 3, "unsupported element type 0x42");
    }

    @Test
    void truncatedHeader() throws IOException {
        byte[] b = Idx.encode(sample());
        fails(put("cut9-idx3", Arrays.copyOf(b, 9)), 3, "truncated header", "rank 3 needs 16 header bytes, found 9");
        fails(put("cut2-idx3", Arrays.copyOf(b, 2)), 3, "truncated header", "found 2");
        fails(put("zero-idx3", new byte[0]), 3, "empty file");
        // the same in a gzip stream
        byte[] cutInside = gzipOf(Arrays.copyOf(b, 9));
        fails(put("cut9-idx3.gz", cutInside), 3, "truncated header", "found 9", "after gunzip");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] b = Idx.encode(sample());
        fails(put("train-images-idx3-ubyte", Arrays.copyOf(b, b.length - 7)), 3,
                "truncated: header promises 60 bytes of data, found 53");
        // gzip whose content is short, and a gzip file cut in the middle of its compressed stream
        fails(put("short-idx3-ubyte.gz", gzipOf(Arrays.copyOf(b, b.length - 7))), 3,
                "truncated: header promises 60 bytes of data, found 53");
        byte[] big = Idx.encodeGzip(new Idx.Data(new int[] {40, 28, 28}, noise(40 * 28 * 28)));
        Path cut = put("train-images-idx3-ubyte.gz", Arrays.copyOf(big, big.length / 2));
        fails(cut, 3, "truncated", "header promises 31360 bytes of data");
    }

    @Test
    void trailingBytes() throws IOException {
        byte[] b = Idx.encode(sample());
        byte[] longer = Arrays.copyOf(b, b.length + 5);
        fails(put("long-idx3-ubyte", longer), 3, "trailing garbage: 5 bytes after the 60 bytes of data");
        fails(put("long-idx3-ubyte.gz", gzipOf(longer)), 3, "trailing garbage: 5 bytes");
    }

    @Test
    void rankMismatch() throws IOException {
        Path p = put("labels-idx1-ubyte", Idx.encode(new Idx.Data(new int[] {6}, new byte[6])));
        fails(p, 3, "rank mismatch: expected rank 3, header declares rank 1", "[6]");
        Path q = put("images-idx3-ubyte", Idx.encode(sample()));
        fails(q, 1, "rank mismatch: expected rank 1, header declares rank 3", "[3, 4, 5]");
        byte[] r0 = {0, 0, 8, 0};
        fails(put("rank0", r0), 0, "rank 0");
    }

    @Test
    void sizesThatOverflowFailBeforeAllocating() throws IOException {
        // 65536 * 65536 * 1 elements: more than a Java array holds
        byte[] h = {0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
        fails(put("huge-idx3", h), 3, "sizes overflow", "[65536, 65536, 1]");
        byte[] u = {0, 0, 8, 1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        fails(put("unsigned-idx1", u), 1, "sizes overflow", "4294967295");
        // promising 2e9 bytes through gzip fails on truncation without allocating them
        byte[] g = {0, 0, 8, 1, 0x77, 0x35, (byte) 0x94, 0x00, 1, 2, 3};
        fails(put("liar-idx1.gz", gzipOf(g)), 1, "truncated: header promises 2000000000 bytes of data, found 3");
    }

    @Test
    void missingFileDirectoryAndCorruptGzip() throws IOException {
        Path missing = dir.resolve("no-such-idx3-ubyte.gz");
        fails(missing, 3, "file not found");
        fails(dir, 3, "is a directory");
        byte[] gz = Idx.encodeGzip(sample());
        for (int i = 12; i < gz.length - 8; i++) {
            gz[i] ^= 0x5A;
        }
        DataException e = assertThrows(DataException.class, () -> Idx.read(put("mangled.gz", gz), 3));
        assertTrue(e.getMessage().startsWith(dir.resolve("mangled.gz") + ": "), e.getMessage());
    }

    @Test
    void dataRecordChecksItsShape() {
        assertThrows(IllegalArgumentException.class, () -> new Idx.Data(new int[] {2, 3}, new byte[5]));
        assertThrows(IllegalArgumentException.class, () -> new Idx.Data(new int[] {-1}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new Idx.Data(new int[0], new byte[1]));
    }

    static byte[] gzipOf(byte[] plain) throws IOException {
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bos)) {
            gz.write(plain);
        }
        return bos.toByteArray();
    }

    static byte[] noise(int n) {
        byte[] b = new byte[n];
        new java.util.SplittableRandom(3).nextBytes(b);
        return b;
    }
}
