package dev.sprout.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads and writes IDX files (the MNIST / Fashion-MNIST container), plain or gzip-compressed.
 *
 * <p>Format: a 4-byte magic number {@code 0x00 0x00 TT RR} (element type code {@code TT}, rank {@code RR}), then
 * {@code RR} big-endian unsigned 32-bit dimension sizes, then the elements in row-major order. Only element type
 * {@code 0x08} (unsigned byte) is supported, which is what the image and label files use.
 *
 * <p>Compression is recognised by the gzip magic bytes {@code 1f 8b}, never by the file name. Every problem is a
 * {@link DataException} whose one-line message names the file and the problem: a missing file, a wrong magic number,
 * an unsupported element type (with the code found), a rank other than the one expected, a truncated header or
 * data, bytes after the data, dimension sizes whose product overflows a Java array, corrupt gzip data.
 *
 * <p>Performance: data is read in bulk into one {@code byte[]} (no per-byte stream calls). For a plain file the
 * length is checked against the header before anything is allocated; for a gzip stream the buffer grows as data
 * arrives, so a corrupt header promising gigabytes fails on truncation, not with an {@link OutOfMemoryError}.
 */
public final class Idx {
    /** Element type code of unsigned bytes. */
    public static final int UBYTE = 0x08;
    /** The most elements one IDX array may hold here (the largest Java array). */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final int BUFFER = 1 << 16;
    /** First allocation while reading a stream of unknown length; it doubles up to the promised size. */
    private static final int FIRST_CHUNK = 1 << 24;

    private Idx() {
    }

    /**
     * The contents of an IDX array of unsigned bytes: its dimension sizes and its elements in row-major order.
     * The arrays are shared, not copied; treat them as read-only once built.
     */
    public record Data(int[] dims, byte[] data) {
        public Data {
            long n = 1;
            for (int d : dims) {
                if (d < 0) {
                    throw new IllegalArgumentException("Idx.Data: negative dimension in " + Arrays.toString(dims));
                }
                n *= d;
                if (n > MAX_ELEMENTS) {
                    throw new IllegalArgumentException("Idx.Data: dimensions " + Arrays.toString(dims)
                            + " hold more than " + MAX_ELEMENTS + " elements");
                }
            }
            if (dims.length == 0 || dims.length > 255) {
                throw new IllegalArgumentException("Idx.Data: rank " + dims.length + " outside [1, 255]");
            }
            if (n != data.length) {
                throw new IllegalArgumentException("Idx.Data: dimensions " + Arrays.toString(dims) + " need " + n
                        + " elements, data has " + data.length);
            }
        }

        public int rank() {
            return dims.length;
        }

        public int dim(int i) {
            return dims[i];
        }

        /** Element {@code i} (row-major) as an unsigned value in [0, 255]. */
        public int get(int i) {
            return data[i] & 0xFF;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Data d && Arrays.equals(dims, d.dims) && Arrays.equals(data, d.data);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Idx.Data(ubyte" + Arrays.toString(dims) + ")";
        }
    }

    // ------------------------------------------------------------------------------------------ reading

    /** Reads an IDX file of any rank, plain or gzip. */
    public static Data read(Path file) {
        return read(file, 0);
    }

    /**
     * Reads an IDX file, plain or gzip, requiring rank {@code expectedRank} (0: any rank).
     *
     * @throws DataException naming the file and the problem
     */
    public static Data read(Path file, int expectedRank) {
        String source = file.toString();
        if (Files.isDirectory(file)) {
            throw new DataException(source, "is a directory, not an IDX file");
        }
        long length;
        InputStream in;
        try {
            length = Files.size(file);
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw new DataException(source, "file not found");
        } catch (AccessDeniedException e) {
            throw new DataException(source, "cannot read: permission denied");
        } catch (IOException e) {
            throw new DataException(source, "cannot read: " + e, e);
        }
        try (in) {
            return read(in, source, expectedRank, length);
        } catch (IOException e) {
            throw new DataException(source, "cannot read: " + e, e);
        }
    }

    /**
     * Reads one IDX array from a stream (plain or gzip), requiring rank {@code expectedRank} (0: any rank) and that
     * the stream ends where the data ends. The caller closes the stream.
     *
     * @param source the name used in error messages (file or resource name)
     */
    public static Data read(InputStream in, String source, int expectedRank) {
        try {
            return read(in, source, expectedRank, -1);
        } catch (IOException e) {
            throw new DataException(source, "cannot read: " + e, e);
        }
    }

    private static Data read(InputStream raw, String source, int expectedRank, long fileLength) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, BUFFER);
        buffered.mark(2);
        int b0 = buffered.read(), b1 = buffered.read();
        buffered.reset();
        boolean gzip = b0 == 0x1f && b1 == 0x8b;
        InputStream in;
        if (gzip) {
            try {
                in = new GZIPInputStream(buffered, BUFFER);
            } catch (EOFException e) {
                throw new DataException(source, "truncated: gzip header cut short");
            } catch (ZipException e) {
                throw new DataException(source, "corrupt gzip data: " + e.getMessage());
            }
        } else {
            in = buffered;
        }
        String kind = gzip ? " (after gunzip)" : "";
        try {
            return readBody(in, source, expectedRank, gzip ? -1 : fileLength, kind);
        } catch (EOFException e) {
            throw new DataException(source, "truncated: gzip stream ends early (" + e.getMessage() + ")");
        } catch (ZipException e) {
            throw new DataException(source, "corrupt gzip data: " + e.getMessage());
        }
    }

    private static Data readBody(InputStream in, String source, int expectedRank, long fileLength, String kind)
            throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length == 0) {
            throw new DataException(source, "empty" + (kind.isEmpty() ? " file" : " stream" + kind)
                    + ": expected an IDX header");
        }
        if (magic.length < 4) {
            throw new DataException(source, "truncated header: magic number needs 4 bytes, found " + magic.length
                    + kind);
        }
        int m = ((magic[0] & 0xFF) << 24) | ((magic[1] & 0xFF) << 16) | ((magic[2] & 0xFF) << 8) | (magic[3] & 0xFF);
        if (magic[0] != 0 || magic[1] != 0) {
            throw new DataException(source, String.format(Locale.ROOT,
                    "not an IDX file: wrong magic number 0x%08X, expected 0x0000TTRR (two zero bytes, element type,"
                            + " rank)", m));
        }
        int type = magic[2] & 0xFF;
        if (type != UBYTE) {
            throw new DataException(source, String.format(Locale.ROOT,
                    "unsupported element type 0x%02X (%s) in magic number 0x%08X; only 0x08 (unsigned byte) is"
                            + " supported", type, typeName(type), m));
        }
        int rank = magic[3] & 0xFF;
        if (rank == 0) {
            throw new DataException(source, "rank 0 in magic number: an IDX array needs at least one dimension");
        }
        int headerBytes = 4 + 4 * rank;
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new DataException(source, "truncated header: rank " + rank + " needs " + headerBytes
                    + " header bytes, found " + (4 + dimBytes.length) + kind);
        }
        long[] udims = new long[rank];
        for (int i = 0; i < rank; i++) {
            udims[i] = ((dimBytes[4 * i] & 0xFFL) << 24) | ((dimBytes[4 * i + 1] & 0xFFL) << 16)
                    | ((dimBytes[4 * i + 2] & 0xFFL) << 8) | (dimBytes[4 * i + 3] & 0xFFL);
        }
        if (expectedRank > 0 && rank != expectedRank) {
            throw new DataException(source, "rank mismatch: expected rank " + expectedRank + ", header declares rank "
                    + rank + " with dimensions " + Arrays.toString(udims));
        }
        long n = 1;
        for (long d : udims) {
            n *= d; // at most 2^31 * 2^32 < 2^63 before the check below
            if (n > MAX_ELEMENTS) {
                throw new DataException(source, "sizes overflow: dimensions " + Arrays.toString(udims)
                        + " hold more than " + MAX_ELEMENTS + " elements, the most one Java array can");
            }
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = (int) udims[i]; // each <= n <= MAX_ELEMENTS, unless n == 0
            if (udims[i] > MAX_ELEMENTS) {
                throw new DataException(source, "sizes overflow: dimension " + i + " is " + udims[i]
                        + ", more than " + MAX_ELEMENTS);
            }
        }
        int count = (int) n;
        byte[] data;
        if (fileLength >= 0) {
            long available = fileLength - headerBytes;
            if (available < count) {
                throw new DataException(source, "truncated: header promises " + count + " bytes of data, found "
                        + available);
            }
            if (available > count) {
                throw new DataException(source, "trailing garbage: " + (available - count) + " bytes after the "
                        + count + " bytes of data the header promises");
            }
            data = new byte[count];
            int got = in.readNBytes(data, 0, count);
            if (got < count) { // the file shrank while we read it
                throw new DataException(source, "truncated: header promises " + count + " bytes of data, found "
                        + got);
            }
        } else {
            data = readGrowing(in, source, count, kind);
            long extra = in.transferTo(OutputStream.nullOutputStream());
            if (extra > 0) {
                throw new DataException(source, "trailing garbage: " + extra + " bytes" + kind + " after the " + count
                        + " bytes of data the header promises");
            }
        }
        return new Data(dims, data);
    }

    /** Reads exactly {@code count} bytes, growing the buffer as they arrive. */
    private static byte[] readGrowing(InputStream in, String source, int count, String kind) throws IOException {
        byte[] buf = new byte[Math.min(count, FIRST_CHUNK)];
        int off = 0;
        while (off < count) {
            if (off == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(count, 2L * buf.length));
            }
            int r;
            try {
                r = in.read(buf, off, buf.length - off);
            } catch (EOFException e) {
                throw new DataException(source, "truncated: header promises " + count + " bytes of data, found "
                        + off + kind + " (gzip stream cut short)");
            }
            if (r < 0) {
                throw new DataException(source, "truncated: header promises " + count + " bytes of data, found "
                        + off + kind);
            }
            off += r;
        }
        return buf;
    }

    /** The IDX name of an element type code. */
    static String typeName(int code) {
        return switch (code) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "16-bit integer";
            case 0x0C -> "32-bit integer";
            case 0x0D -> "32-bit float";
            case 0x0E -> "64-bit float";
            default -> "not an IDX type";
        };
    }

    // ------------------------------------------------------------------------------------------ writing

    /** The bytes of a plain (uncompressed) IDX file holding {@code d}. */
    public static byte[] encode(Data d) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4 + 4 * d.rank() + d.data().length);
        try {
            write(out, d);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen on a byte array
        }
        return out.toByteArray();
    }

    /** The bytes of a gzip-compressed IDX file holding {@code d} (best compression, fixed header: reproducible). */
    public static byte[] encodeGzip(Data d) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = gzip(bytes)) {
            write(gz, d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes {@code d} as an uncompressed IDX array to {@code out} (which is not closed). */
    public static void write(OutputStream out, Data d) throws IOException {
        byte[] header = new byte[4 + 4 * d.rank()];
        header[2] = (byte) UBYTE;
        header[3] = (byte) d.rank();
        for (int i = 0; i < d.rank(); i++) {
            int v = d.dim(i);
            header[4 + 4 * i] = (byte) (v >>> 24);
            header[5 + 4 * i] = (byte) (v >>> 16);
            header[6 + 4 * i] = (byte) (v >>> 8);
            header[7 + 4 * i] = (byte) v;
        }
        out.write(header);
        out.write(d.data());
    }

    /**
     * Writes {@code d} to {@code file}, gzip-compressed when {@code gzip} (whatever the file name says).
     *
     * @throws DataException naming the file when it cannot be written
     */
    public static void write(Path file, Data d, boolean gzip) {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), BUFFER);
             OutputStream out = gzip ? gzip(os) : os) {
            write(out, d);
        } catch (IOException e) {
            throw new DataException(file.toString(), "cannot write: " + e, e);
        }
    }

    private static OutputStream gzip(OutputStream out) throws IOException {
        return new GZIPOutputStream(out, BUFFER) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        };
    }
}
