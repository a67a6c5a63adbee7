package dev.sprout.data;

/**
 * A data file or data source that cannot be used: missing, truncated, corrupt, or holding values outside their
 * allowed range. The message is one line, {@code "<source>: <problem>"}, naming the file (or resource, or dataset)
 * first and the problem second, e.g.
 * {@code "/data/train-images-idx3-ubyte.gz: truncated: header promises 47040000 bytes of data, found 1234"}.
 */
public class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String problem;

    public DataException(String source, String problem) {
        this(source, problem, null);
    }

    public DataException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
        this.problem = problem;
    }

    /** The file, resource or dataset the problem was found in. */
    public String source() {
        return source;
    }

    /** The problem, without the source. */
    public String problem() {
        return problem;
    }
}
