package dev.sprout.autograd;

/**
 * Raised in checked mode ({@link Autograd#checked()}) when an operation produces NaN or infinity: the message
 * names the operation (forward or backward), its operands and the first bad position.
 */
public class NonFiniteException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    public NonFiniteException(String message) {
        super(message);
    }
}
