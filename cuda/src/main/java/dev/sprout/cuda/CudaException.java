package dev.sprout.cuda;

/**
 * An error from the CUDA driver or from one of Sprout's kernels, turned into an exception that names what was
 * running: the kernel and its launch shape, or the allocation and the memory that was free.
 */
public class CudaException extends RuntimeException {

    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
