package dev.sprout.io;

import java.nio.file.Path;

/**
 * A checkpoint could not be written, read or applied. The message is one line and names the file; {@link #kind()}
 * tells the cases apart without parsing it.
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The file does not exist. */
        MISSING,
        /** The file does not start with the magic bytes {@code SPROUTCK}. */
        NOT_A_CHECKPOINT,
        /** A Sprout checkpoint in a format version this build cannot read. */
        UNSUPPORTED_VERSION,
        /** The file ends early (an interrupted copy or download). */
        TRUNCATED,
        /** The CRC does not match, or the structure is damaged. */
        CORRUPT,
        /** The stored architecture names a module this build cannot rebuild. */
        ARCHITECTURE,
        /** The checkpoint does not fit the model or optimizer it is restored into. */
        MISMATCH,
        /** The file system failed (permissions, disk full, ...). */
        IO
    }

    private final Kind kind;
    private final transient Path file;

    public CheckpointException(Kind kind, Path file, String message, Throwable cause) {
        super(message.replace('\n', ' ').replace('\r', ' '), cause);
        this.kind = kind;
        this.file = file;
    }

    public CheckpointException(Kind kind, Path file, String message) {
        this(kind, file, message, null);
    }

    public Kind kind() {
        return kind;
    }

    public Path file() {
        return file;
    }
}
