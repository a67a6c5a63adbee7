package dev.sprout.io;

import dev.sprout.autograd.Autograd;
import dev.sprout.io.CheckpointException.Kind;
import dev.sprout.nn.Module;
import dev.sprout.nn.Modules;
import dev.sprout.optim.Optimizer;
import dev.sprout.optim.Optimizers;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Storage;
import dev.sprout.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * A training checkpoint: the model's architecture as it is now (grown widths included), every parameter and
 * buffer, the optimizer (type, hyper-parameters, step count, state tensors) and free-form metadata, in one binary
 * file.
 *
 * <h2>Format, version 1</h2>
 * All integers and floating-point values are <b>little-endian</b> (so tensor data can be read directly, e.g. by
 * {@code numpy.frombuffer(..., '<f4')}); strings are a u32 byte count followed by UTF-8.
 * <pre>
 *   header   magic "SPROUTCK" (8 bytes), u32 format version (1), u32 section count N
 *   table    N entries of: 4 ASCII bytes tag, u32 reserved (0), u64 offset from file start, u64 length
 *   sections contiguous, in table order:
 *     ARCH   the UTF-8 text of Modules.describe(model)
 *     TENS   u32 P, P tensor records (parameters), u32 B, B tensor records (buffers)
 *     OPTM   (only with an optimizer) string type, u64 step count, u32 H, H (string key, string value) pairs,
 *            u32 S, S tensor records named "param#state"
 *     META   u32 M, M (string key, string value) pairs
 *   trailer  u64 byte count of everything before the trailer, u32 CRC32 of those bytes, 4 ASCII bytes "CKOK"
 *
 *   tensor record: string name, u8 dtype (0 f32, 1 f64, 2 c64), u8 rank, rank x u32 dims,
 *                  then numel elements in row-major order (c64 as interleaved f32 re, im), raw IEEE bits
 * </pre>
 * A reader ignores section tags it does not know. A file is checked in this order: magic (else
 * {@link Kind#NOT_A_CHECKPOINT}), trailer and CRC (a file whose trailer is intact but whose CRC differs is
 * {@link Kind#CORRUPT}), version ({@link Kind#UNSUPPORTED_VERSION}), and a file without an intact trailer is
 * {@link Kind#TRUNCATED} when it is shorter than its section table says, else {@link Kind#CORRUPT}. This reader
 * holds the whole file in memory, so files must be under 2 GiB.
 *
 * <h2>Writing safely</h2>
 * {@link #save} writes a temporary file in the target's folder, forces it to disk, then renames it over the target
 * atomically ({@code ATOMIC_MOVE}; a plain replacing move where the file system refuses that), and finally forces
 * the folder: a crash at any point leaves either the previous checkpoint or the new one, never a mixture. A crash
 * can leave a stray {@code .NAME.*.tmp} file beside it, which readers ignore.
 */
public final class Checkpoint {
    /** The first 8 bytes of every checkpoint. */
    public static final String MAGIC = "SPROUTCK";
    /** The format version this build writes and reads. */
    public static final int FORMAT_VERSION = 1;

    static final int HEADER_BYTES = 16, ENTRY_BYTES = 24, TRAILER_BYTES = 16;
    static final String TRAILER_MARK = "CKOK";
    static final String ARCH = "ARCH", TENS = "TENS", OPTM = "OPTM", META = "META";
    private static final int MAX_SECTIONS = 1 << 16;

    private final Path file;
    private final int version;
    private final String architecture;
    private final Map<String, Tensor> parameters, buffers;
    private final String optimizerType;
    private final Map<String, String> optimizerHyper;
    private final long optimizerSteps;
    private final Map<String, Tensor> optimizerState;
    private final Map<String, String> metadata;

    private Checkpoint(Path file, int version, String architecture, Map<String, Tensor> parameters, Map<String, Tensor> buffers,
                       String optimizerType, Map<String, String> optimizerHyper, long optimizerSteps,
                       Map<String, Tensor> optimizerState, Map<String, String> metadata) {
        this.file = file;
        this.version = version;
        this.architecture = architecture;
        this.parameters = Collections.unmodifiableMap(parameters);
        this.buffers = Collections.unmodifiableMap(buffers);
        this.optimizerType = optimizerType;
        this.optimizerHyper = Collections.unmodifiableMap(optimizerHyper);
        this.optimizerSteps = optimizerSteps;
        this.optimizerState = Collections.unmodifiableMap(optimizerState);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    // ============================================================================================ save

    /**
     * Writes a checkpoint of {@code model}, its {@code optimizer} (may be null) and {@code metadata} (may be null)
     * to {@code file}, replacing it atomically (see the class comment).
     *
     * @throws CheckpointException of kind {@link Kind#IO} when the file system fails; the previous file, if any, is
     *                             left as it was
     */
    public static void save(Path file, Module model, Optimizer optimizer, Map<String, String> metadata) {
        save(file, model, optimizer, metadata, -1);
    }

    /** As {@link #save(Path, Module, Optimizer, Map)}; a test hook fails the write after {@code failAfterBytes}. */
    static void save(Path file, Module model, Optimizer optimizer, Map<String, String> metadata, long failAfterBytes) {
        if (optimizer != null && optimizer.module() != model) {
            throw new IllegalArgumentException("checkpoint " + file + ": the optimizer updates a different module than the one saved");
        }
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("checkpoint " + file + ": metadata keys and values must not be null: " + e);
            }
        }
        List<String> tags = new ArrayList<>();
        List<Section> sections = new ArrayList<>();
        String arch = Modules.describe(model);
        Map<String, Tensor> params = model.namedParameters(), bufs = model.namedBuffers();
        tags.add(ARCH);
        sections.add(o -> o.raw(arch.getBytes(StandardCharsets.UTF_8)));
        tags.add(TENS);
        sections.add(o -> {
            tensors(o, params);
            tensors(o, bufs);
        });
        if (optimizer != null) {
            String type = optimizer.type();
            Map<String, String> hyper = optimizer.hyperParameters();
            long steps = optimizer.stepCount();
            Map<String, Tensor> state = optimizer.stateTensors();
            tags.add(OPTM);
            sections.add(o -> {
                o.str(type);
                o.u64(steps);
                strings(o, hyper);
                tensors(o, state);
            });
        }
        tags.add(META);
        sections.add(o -> strings(o, meta));

        // First pass: measure each section, so the table can be written before the data.
        long[] lengths = new long[sections.size()];
        Out counter = new Out(null, -1);
        for (int i = 0; i < sections.size(); i++) {
            long start = counter.count();
            try {
                sections.get(i).write(counter);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            lengths[i] = counter.count() - start;
        }

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                Out o = new Out(Channels.newOutputStream(ch), failAfterBytes);
                o.raw(MAGIC.getBytes(StandardCharsets.US_ASCII));
                o.u32(FORMAT_VERSION);
                o.u32(sections.size());
                long offset = HEADER_BYTES + (long) ENTRY_BYTES * sections.size();
                for (int i = 0; i < sections.size(); i++) {
                    o.raw(tags.get(i).getBytes(StandardCharsets.US_ASCII));
                    o.u32(0);
                    o.u64(offset);
                    o.u64(lengths[i]);
                    offset += lengths[i];
                }
                for (int i = 0; i < sections.size(); i++) {
                    long start = o.count();
                    sections.get(i).write(o);
                    if (o.count() - start != lengths[i]) {
                        throw new IllegalStateException("checkpoint " + file + ": section " + tags.get(i) + " changed size while it was"
                                + " written (" + lengths[i] + " then " + (o.count() - start) + " bytes); is another thread training?");
                    }
                }
                o.finish();
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            forceDirectory(dir);
        } catch (IOException e) {
            throw new CheckpointException(Kind.IO, file, "checkpoint " + file + " could not be written: " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray temporary file does not harm the checkpoint
                }
            }
        }
    }

    /** Makes the rename durable; some platforms cannot open a folder for this, which is harmless. */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException ignored) {
            // not supported here (e.g. Windows); the rename itself is still atomic
        }
    }

    private interface Section {
        void write(Out o) throws IOException;
    }

    private static void strings(Out o, Map<String, String> m) throws IOException {
        o.u32(m.size());
        for (Map.Entry<String, String> e : m.entrySet()) {
            o.str(e.getKey());
            o.str(e.getValue());
        }
    }

    private static void tensors(Out o, Map<String, Tensor> m) throws IOException {
        o.u32(m.size());
        for (Map.Entry<String, Tensor> e : m.entrySet()) {
            Tensor t = e.getValue();
            o.str(e.getKey());
            o.u8(dtypeCode(t.dtype()));
            if (t.rank() > 255) {
                throw new IllegalArgumentException("checkpoint: tensor " + e.getKey() + " has rank " + t.rank() + " > 255");
            }
            o.u8(t.rank());
            for (int i = 0; i < t.rank(); i++) {
                o.u32(t.dim(i));
            }
            Tensor c = t.contiguousData();
            int n = t.numel();
            switch (t.dtype()) {
                case F32 -> o.floats(c.storage().floats(), c.offset(), n);
                case F64 -> o.doubles(c.storage().doubles(), c.offset(), n);
                case C64 -> o.floats(c.storage().floats(), 2 * c.offset(), 2 * n);
            }
        }
    }

    private static int dtypeCode(DType d) {
        return switch (d) {
            case F32 -> 0;
            case F64 -> 1;
            case C64 -> 2;
        };
    }

    /**
     * A little-endian writer that counts bytes, feeds a CRC32 and writes through a 64 KiB buffer; with no stream it
     * only counts (the measuring pass).
     */
    private static final class Out {
        private final OutputStream os;
        private final long failAfter;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32 crc = new CRC32();
        private long flushed;

        Out(OutputStream os, long failAfter) {
            this.os = os;
            this.failAfter = failAfter;
        }

        long count() {
            return flushed + buf.position();
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        private void flush() throws IOException {
            int n = buf.position();
            if (os != null && n > 0) {
                if (failAfter >= 0 && flushed + n > failAfter) {
                    os.write(buf.array(), 0, (int) Math.max(0, failAfter - flushed));
                    os.flush();
                    throw new IOException("simulated crash after " + failAfter + " bytes (test hook)");
                }
                os.write(buf.array(), 0, n);
                crc.update(buf.array(), 0, n);
            }
            flushed += n;
            buf.clear();
        }

        void u8(int v) throws IOException {
            room(1);
            buf.put((byte) v);
        }

        void u32(int v) throws IOException {
            room(4);
            buf.putInt(v);
        }

        void u64(long v) throws IOException {
            room(8);
            buf.putLong(v);
        }

        void raw(byte[] b) throws IOException {
            int at = 0;
            while (at < b.length) {
                room(1);
                int k = Math.min(buf.remaining(), b.length - at);
                buf.put(b, at, k);
                at += k;
            }
        }

        void str(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u32(b.length);
            raw(b);
        }

        void floats(float[] a, int off, int n) throws IOException {
            while (n > 0) {
                room(4);
                int k = Math.min(n, buf.remaining() / 4);
                buf.asFloatBuffer().put(a, off, k);
                buf.position(buf.position() + 4 * k);
                off += k;
                n -= k;
            }
        }

        void doubles(double[] a, int off, int n) throws IOException {
            while (n > 0) {
                room(8);
                int k = Math.min(n, buf.remaining() / 8);
                buf.asDoubleBuffer().put(a, off, k);
                buf.position(buf.position() + 8 * k);
                off += k;
                n -= k;
            }
        }

        /** Flushes the body and writes the trailer (not part of the CRC). */
        void finish() throws IOException {
            flush();
            long body = flushed;
            int crcValue = (int) crc.getValue();
            u64(body);
            u32(crcValue);
            raw(TRAILER_MARK.getBytes(StandardCharsets.US_ASCII));
            int n = buf.position();
            if (os != null) {
                if (failAfter >= 0 && flushed + n > failAfter) {
                    throw new IOException("simulated crash after " + failAfter + " bytes (test hook)");
                }
                os.write(buf.array(), 0, n);
                os.flush();
            }
            flushed += n;
            buf.clear();
        }
    }

    // ============================================================================================ load

    /**
     * Reads and verifies a checkpoint.
     *
     * @throws CheckpointException of kind MISSING, NOT_A_CHECKPOINT, UNSUPPORTED_VERSION, TRUNCATED, CORRUPT or IO
     */
    public static Checkpoint load(Path file) {
        byte[] b;
        try {
            if (Files.isDirectory(file)) {
                throw new CheckpointException(Kind.IO, file, "checkpoint " + file + " is a directory, not a file");
            }
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 16) {
                throw new CheckpointException(Kind.IO, file, "checkpoint " + file + " has " + size
                        + " bytes; this reader handles files under 2 GiB");
            }
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(Kind.MISSING, file, "checkpoint " + file + " does not exist", e);
        } catch (IOException e) {
            throw new CheckpointException(Kind.IO, file, "checkpoint " + file + " could not be read: " + e, e);
        }
        return parse(file, b);
    }

    private static CheckpointException fail(Kind kind, Path file, String detail) {
        return new CheckpointException(kind, file, "checkpoint " + file + ": " + detail);
    }

    private static Checkpoint parse(Path file, byte[] b) {
        int n = b.length;
        byte[] magic = MAGIC.getBytes(StandardCharsets.US_ASCII);
        int k = Math.min(n, magic.length);
        boolean magicPrefix = true;
        for (int i = 0; i < k; i++) {
            magicPrefix &= b[i] == magic[i];
        }
        if (!magicPrefix) {
            throw fail(Kind.NOT_A_CHECKPOINT, file, "not a Sprout checkpoint: it starts with " + showBytes(b, Math.min(n, 8))
                    + " where a checkpoint has \"" + MAGIC + "\"");
        }
        if (n < HEADER_BYTES) {
            throw fail(Kind.TRUNCATED, file, "truncated: " + n + " bytes, shorter than the " + HEADER_BYTES + "-byte header");
        }
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int version = bb.getInt(8);
        long count = Integer.toUnsignedLong(bb.getInt(12));
        boolean trailerIntact = n >= HEADER_BYTES + TRAILER_BYTES
                && bb.getLong(n - TRAILER_BYTES) == n - TRAILER_BYTES
                && new String(b, n - 4, 4, StandardCharsets.US_ASCII).equals(TRAILER_MARK);
        if (trailerIntact) {
            CRC32 crc = new CRC32();
            crc.update(b, 0, n - TRAILER_BYTES);
            int stored = bb.getInt(n - 8), computed = (int) crc.getValue();
            if (stored != computed) {
                throw fail(Kind.CORRUPT, file, String.format("corrupt: CRC32 mismatch (stored %08x, computed %08x over %d bytes)",
                        stored, computed, n - TRAILER_BYTES));
            }
        }
        if (version != FORMAT_VERSION) {
            throw fail(Kind.UNSUPPORTED_VERSION, file, "unsupported format version " + Integer.toUnsignedString(version)
                    + " (this build reads version " + FORMAT_VERSION + ")");
        }
        long tableEnd = HEADER_BYTES + ENTRY_BYTES * count;
        if (!trailerIntact) {
            if (count > MAX_SECTIONS) {
                throw fail(Kind.CORRUPT, file, "corrupt: the header claims " + count + " sections and the trailer is damaged");
            }
            if (n < tableEnd) {
                throw fail(Kind.TRUNCATED, file, "truncated: " + n + " bytes, ending inside the section table (" + tableEnd
                        + " bytes)");
            }
            long end = tableEnd;
            for (int i = 0; i < count; i++) {
                int at = HEADER_BYTES + ENTRY_BYTES * i;
                end = Math.max(end, bb.getLong(at + 8) + bb.getLong(at + 16));
            }
            end += TRAILER_BYTES;
            if (end > n && end > 0) {
                throw fail(Kind.TRUNCATED, file, "truncated: " + n + " of " + end + " bytes present");
            }
            throw fail(Kind.CORRUPT, file, "corrupt: the trailer (length, CRC32, \"" + TRAILER_MARK + "\") is missing or damaged");
        }
        long bodyEnd = n - TRAILER_BYTES;
        if (count > MAX_SECTIONS || tableEnd > bodyEnd) {
            throw fail(Kind.CORRUPT, file, "corrupt: " + count + " sections do not fit in " + n + " bytes");
        }
        Map<String, ByteBuffer> sections = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int at = HEADER_BYTES + ENTRY_BYTES * i;
            String tag = new String(b, at, 4, StandardCharsets.US_ASCII);
            long off = bb.getLong(at + 8), len = bb.getLong(at + 16);
            if (off < tableEnd || len < 0 || off + len > bodyEnd || off + len < off) {
                throw fail(Kind.CORRUPT, file, "corrupt: section " + tag + " (offset " + off + ", " + len + " bytes) lies outside the data");
            }
            if (sections.put(tag, bb.slice((int) off, (int) len).order(ByteOrder.LITTLE_ENDIAN)) != null) {
                throw fail(Kind.CORRUPT, file, "corrupt: section " + tag + " appears twice");
            }
        }
        for (String required : List.of(ARCH, TENS, META)) {
            if (!sections.containsKey(required)) {
                throw fail(Kind.CORRUPT, file, "corrupt: section " + required + " is missing");
            }
        }
        String current = null;
        try {
            current = ARCH;
            ByteBuffer a = sections.get(ARCH);
            byte[] text = new byte[a.remaining()];
            a.get(text);
            String architecture = new String(text, StandardCharsets.UTF_8);

            current = TENS;
            ByteBuffer t = sections.get(TENS);
            Map<String, Tensor> params = readTensors(t), bufs = readTensors(t);
            requireConsumed(t);

            String optType = null;
            Map<String, String> optHyper = new LinkedHashMap<>();
            Map<String, Tensor> optState = new LinkedHashMap<>();
            long optSteps = 0;
            ByteBuffer o = sections.get(OPTM);
            if (o != null) {
                current = OPTM;
                optType = readString(o);
                optSteps = o.getLong();
                optHyper = readStrings(o);
                optState = readTensors(o);
                requireConsumed(o);
            }

            current = META;
            ByteBuffer m = sections.get(META);
            Map<String, String> meta = readStrings(m);
            requireConsumed(m);
            return new Checkpoint(file, version, architecture, params, bufs, optType, optHyper, optSteps, optState, meta);
        } catch (BufferUnderflowException | IllegalArgumentException | ArithmeticException e) {
            throw fail(Kind.CORRUPT, file, "corrupt: section " + current + " is malformed ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
        }
    }

    private static void requireConsumed(ByteBuffer b) {
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(b.remaining() + " unread bytes at its end");
        }
    }

    private static String readString(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0 || len > b.remaining()) {
            throw new IllegalArgumentException("a string of " + Integer.toUnsignedString(len) + " bytes overruns the section");
        }
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Map<String, String> readStrings(ByteBuffer b) {
        int count = b.getInt();
        if (count < 0) {
            throw new IllegalArgumentException("negative count " + count);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            out.put(readString(b), readString(b));
        }
        return out;
    }

    private static Map<String, Tensor> readTensors(ByteBuffer b) {
        int count = b.getInt();
        if (count < 0) {
            throw new IllegalArgumentException("negative tensor count " + count);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String name = readString(b);
            int code = b.get() & 0xff, rank = b.get() & 0xff;
            if (code > 2) {
                throw new IllegalArgumentException("tensor " + name + " has unknown dtype code " + code);
            }
            DType dtype = code == 0 ? DType.F32 : code == 1 ? DType.F64 : DType.C64;
            int[] dims = new int[rank];
            int numel = 1;
            for (int d = 0; d < rank; d++) {
                dims[d] = b.getInt();
                if (dims[d] < 0) {
                    throw new IllegalArgumentException("tensor " + name + " has negative size " + dims[d]);
                }
                numel = Math.multiplyExact(numel, dims[d]);
            }
            long bytes = (long) numel * dtype.bytes();
            if (bytes > b.remaining()) {
                throw new IllegalArgumentException("tensor " + name + " needs " + bytes + " bytes but " + b.remaining() + " remain");
            }
            Storage s;
            switch (dtype) {
                case F32 -> {
                    float[] f = new float[numel];
                    b.asFloatBuffer().get(f);
                    s = Storage.wrap(f, false);
                }
                case F64 -> {
                    double[] d = new double[numel];
                    b.asDoubleBuffer().get(d);
                    s = Storage.wrap(d);
                }
                default -> {
                    float[] f = new float[2 * numel];
                    b.asFloatBuffer().get(f);
                    s = Storage.wrap(f, true);
                }
            }
            b.position(b.position() + (int) bytes);
            if (out.put(name, Tensor.wrap(s, Shape.of(dims))) != null) {
                throw new IllegalArgumentException("tensor " + name + " appears twice");
            }
        }
        return out;
    }

    private static String showBytes(byte[] b, int n) {
        StringBuilder hex = new StringBuilder(), text = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int v = b[i] & 0xff;
            hex.append(i > 0 ? " " : "").append(String.format("%02X", v));
            text.append(v >= 0x20 && v < 0x7f && v != '"' && v != '\\' ? String.valueOf((char) v) : String.format("\\x%02X", v));
        }
        return n == 0 ? "nothing (empty file)" : hex + " (\"" + text + "\")";
    }

    // ============================================================================================ accessors

    public Path path() {
        return file;
    }

    public int formatVersion() {
        return version;
    }

    /** The architecture text ({@link Modules#describe}) of the saved model. */
    public String architecture() {
        return architecture;
    }

    /** The saved parameters by dotted name (read-only use: {@link #model} and {@link #restoreInto} copy them). */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    public Map<String, Tensor> buffers() {
        return buffers;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** One metadata value, or {@code dflt} when absent. */
    public String metadata(String key, String dflt) {
        return metadata.getOrDefault(key, dflt);
    }

    public boolean hasOptimizer() {
        return optimizerType != null;
    }

    /** The optimizer's type, or null when none was saved. */
    public String optimizerType() {
        return optimizerType;
    }

    public Map<String, String> optimizerHyperParameters() {
        return optimizerHyper;
    }

    public long optimizerStepCount() {
        return optimizerSteps;
    }

    /** The optimizer's state tensors keyed {@code param#state}. */
    public Map<String, Tensor> optimizerState() {
        return optimizerState;
    }

    // ============================================================================================ rebuild

    /**
     * Rebuilds the model from the saved architecture (with the widths it had when saved) and fills every parameter
     * and buffer with the saved values, bit for bit. {@code rng} only feeds the initialisation that is then
     * overwritten. The model is built in the dtype of the first parameter; a tensor saved in another dtype is
     * installed as saved.
     */
    public Module model(Rng rng) {
        DType dtype = parameters.isEmpty() ? DType.F32 : parameters.values().iterator().next().dtype();
        Module m;
        try {
            m = Modules.parse(architecture, rng, dtype);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(Kind.ARCHITECTURE, file, "checkpoint " + file + ": its architecture cannot be rebuilt: "
                    + e.getMessage(), e);
        }
        checkTensorNames(m, "the rebuilt model");
        try (Autograd.Scope ignored = Autograd.noGrad()) {
            install(m, parameters, m.namedParameters(), true);
            install(m, buffers, m.namedBuffers(), false);
        }
        return m;
    }

    /** An optimizer of the saved type and hyper-parameters on {@code model}, with the saved state and step count. */
    public Optimizer optimizer(Module model) {
        if (!hasOptimizer()) {
            throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + " holds no optimizer");
        }
        Optimizer opt;
        try {
            opt = Optimizers.create(optimizerType, model, optimizerHyper);
            opt.loadState(optimizerState, optimizerSteps);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + ": its " + optimizerType
                    + " optimizer does not fit the model: " + e.getMessage(), e);
        }
        return opt;
    }

    /**
     * Restores an existing model (and optimizer, which may be null) to the saved state. The model's architecture
     * must match the saved one exactly, and every tensor its name, shape and dtype; otherwise a {@link Kind#MISMATCH}
     * exception names the first difference and nothing is changed. The optimizer must be of the saved type: it gets
     * the saved state, step count and learning rate; its other hyper-parameters stay as they are (the saved ones are
     * in {@link #optimizerHyperParameters()}).
     */
    public void restoreInto(Module model, Optimizer optimizer) {
        String now = Modules.describe(model);
        if (!now.equals(architecture)) {
            throw new CheckpointException(Kind.MISMATCH, file, architectureDifference(now));
        }
        checkTensorNames(model, "the model");
        checkTensors(parameters, model.namedParameters(), "parameter");
        checkTensors(buffers, model.namedBuffers(), "buffer");
        if (optimizer != null) {
            if (optimizer.module() != model) {
                throw new IllegalArgumentException("checkpoint " + file + ": restoreInto was given an optimizer of another module");
            }
            if (!hasOptimizer()) {
                throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + " holds no optimizer state to restore into "
                        + optimizer.type());
            }
            if (!optimizer.type().equals(optimizerType)) {
                throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + " holds " + optimizerType
                        + " optimizer state but the optimizer is " + optimizer.type());
            }
            String lr = optimizerHyper.get("lr");
            try {
                double rate = lr == null ? optimizer.learningRate() : Double.parseDouble(lr);
                optimizer.loadState(optimizerState, optimizerSteps);
                optimizer.setLearningRate(rate);
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + ": its optimizer state does not fit: "
                        + e.getMessage(), e);
            }
        }
        try (Autograd.Scope ignored = Autograd.noGrad()) {
            Map<String, Tensor> mp = model.namedParameters(), mb = model.namedBuffers();
            parameters.forEach((k, v) -> mp.get(k).copy_(v));
            buffers.forEach((k, v) -> mb.get(k).copy_(v));
        }
    }

    private void checkTensorNames(Module m, String what) {
        for (boolean params : new boolean[] {true, false}) {
            Set<String> have = (params ? m.namedParameters() : m.namedBuffers()).keySet();
            Set<String> saved = (params ? parameters : buffers).keySet();
            String kind = params ? "parameter" : "buffer";
            for (String s : saved) {
                if (!have.contains(s)) {
                    throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + " holds " + kind + " " + s + " but "
                            + what + " has no such " + kind + " (it has " + have + ")");
                }
            }
            for (String h : have) {
                if (!saved.contains(h)) {
                    throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + " lacks " + kind + " " + h + " that "
                            + what + " has");
                }
            }
        }
    }

    private void checkTensors(Map<String, Tensor> saved, Map<String, Tensor> have, String kind) {
        for (Map.Entry<String, Tensor> e : saved.entrySet()) {
            Tensor s = e.getValue(), h = have.get(e.getKey());
            if (s.dtype() != h.dtype() || !s.shape().equals(h.shape())) {
                throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + " holds " + kind + " " + e.getKey() + " as "
                        + s.dtype() + s.shape() + " but the model has " + h.dtype() + h.shape());
            }
        }
    }

    private void install(Module root, Map<String, Tensor> saved, Map<String, Tensor> have, boolean params) {
        for (Map.Entry<String, Tensor> e : saved.entrySet()) {
            Tensor s = e.getValue(), h = have.get(e.getKey());
            if (s.dtype() == h.dtype() && s.shape().equals(h.shape())) {
                h.copy_(s);
                continue;
            }
            // A tensor saved in another dtype than the one the model was rebuilt in: install a copy as saved.
            Tensor copy = Tensor.zeros(s.dtype(), s.shape());
            copy.copy_(s);
            String name = e.getKey();
            int dot = name.lastIndexOf('.');
            Module owner = root.module(dot < 0 ? "" : name.substring(0, dot));
            String leaf = name.substring(dot + 1);
            try {
                owner.replace(params ? Map.of(leaf, copy) : Map.of(), params ? Map.of() : Map.of(leaf, copy));
            } catch (RuntimeException ex) {
                throw new CheckpointException(Kind.MISMATCH, file, "checkpoint " + file + ": " + (params ? "parameter " : "buffer ")
                        + name + " " + s.describe() + " does not fit the rebuilt model's " + h.describe() + ": " + ex.getMessage(), ex);
            }
        }
    }

    /** Names the first difference between the saved architecture and the model's ({@code now}). */
    private String architectureDifference(String now) {
        Map<String, String> saved = modulesByPath(architecture), model = modulesByPath(now);
        for (Map.Entry<String, String> e : saved.entrySet()) {
            String m = model.get(e.getKey());
            if (m != null && !m.equals(e.getValue())) {
                return "checkpoint " + file + " is for " + e.getValue() + " at " + where(e.getKey()) + " but the model has " + m;
            }
        }
        for (Map.Entry<String, String> e : saved.entrySet()) {
            if (!model.containsKey(e.getKey())) {
                return "checkpoint " + file + " has " + e.getValue() + " at " + where(e.getKey()) + " but the model has no module there";
            }
        }
        for (Map.Entry<String, String> e : model.entrySet()) {
            if (!saved.containsKey(e.getKey())) {
                return "the model has " + e.getValue() + " at " + where(e.getKey()) + " but checkpoint " + file + " has no module there";
            }
        }
        return "checkpoint " + file + " describes the model's modules in another order (saved: "
                + String.join(", ", saved.keySet()) + "; model: " + String.join(", ", model.keySet()) + ")";
    }

    private static String where(String path) {
        return path.equals(".") ? "the root" : path;
    }

    /** Path -> "type(k=v,...)" for each line of an architecture text. */
    private static Map<String, String> modulesByPath(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            String path = f[0];
            String desc = f.length >= 3 ? f[1] + "(" + f[2].replace(';', ',') + ")" : line.strip();
            if (seen.add(path)) {
                out.put(path, desc);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "Checkpoint(" + file + ", " + parameters.size() + " parameters, " + buffers.size() + " buffers"
                + (hasOptimizer() ? ", " + optimizerType + " at step " + optimizerSteps : "") + ", metadata " + metadata.keySet() + ")";
    }
}
