package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.Ops;
import dev.sprout.backend.Activation;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;

import dev.sprout.nn.Sequential;
import dev.sprout.tensor.Tensor;

import java.util.function.Function;

/**
 * The per-neuron quantities every second-order growth method needs, for one growable {@link Site} and one batch,
 * with the rest of the network fixed and batch norm in evaluation mode (running statistics), as in the official
 * splitting code:
 * <ul>
 *   <li>{@code u}: the layer's input vectors, one row per sample and output position ({@code [M, D]}: {@code M = N}
 *       for a linear layer, {@code N * outH * outW} im2col patches for a convolution; {@code D} = fan-in);</li>
 *   <li>{@code z}: the pre-activations after batch norm, {@code [M, C]};</li>
 *   <li>{@code g = dL/dh}: the gradient of the batch-mean loss at each neuron's output, {@code [M, C]};</li>
 *   <li>{@code c}: the batch-norm scale {@code gamma / sqrt(var + eps)} per neuron (1 without batch norm), so
 *       {@code dz/dtheta = c * u}.</li>
 * </ul>
 * The splitting matrix of neuron i is then {@code S_i = sum_m a[m, i] u_m u_m^T} with
 * {@code a = g * sigma''(z) * c^2} ({@link #splittingWeights}); for ReLU, whose sigma'' is zero almost
 * everywhere, sigma'' is taken from the softplus surrogate with parameter {@code surrogateBeta} (3 in the official
 * code).
 */
public record SiteProbe(Tensor u, Tensor z, Tensor g, double[] c, int samples) {

    /**
     * Runs the network on a batch and collects the site's quantities.
     *
     * @param loss maps the network output to the batch-mean loss (e.g. cross-entropy against the batch labels)
     */
    public static SiteProbe run(Site site, Tensor x, Function<Tensor, Tensor> loss) {
        Sequential net = site.net();
        boolean was = net.isTraining();
        net.train(false);
        try {
            Tensor h = x;
            Tensor input, zbn;
            try (Autograd.Scope s = Autograd.noGrad()) {
                for (int i = 0; i < site.index(); i++) {
                    h = net.get(i).forward(h);
                }
                input = h;
                Tensor z = site.layer().forward(input);
                BatchNorm bn = site.batchNorm();
                zbn = bn == null ? z : bn.forward(z);
            }
            Tensor hact = site.activation().forward(zbn).detach().requiresGrad(true);
            Tensor out = hact;
            for (int i = site.activationIndex() + 1; i < net.size(); i++) {
                out = net.get(i).forward(out);
            }
            Tensor grad = Autograd.grad(loss.apply(out), new Tensor[] {hact}, false)[0];
            int n = x.dim(0);
            Tensor u, zr, gr;
            if (site.layer() instanceof Conv2d conv) {
                Tensor cols = Ops.im2col(input, conv.geometry(input.dim(2), input.dim(3))); // [N, D, P]
                u = cols.permute(0, 2, 1).reshape(-1, site.fanIn());                          // [N*P, D]
                zr = zbn.permute(0, 2, 3, 1).reshape(-1, site.neurons());                    // [N*P, C]
                gr = grad.permute(0, 2, 3, 1).reshape(-1, site.neurons());
            } else {
                u = input;
                zr = zbn;
                gr = grad;
            }
            return new SiteProbe(u.contiguous().detach(), zr.contiguous().detach(), gr.contiguous().detach(), bnScale(site), n);
        } finally {
            net.train(was);
        }
    }

    /** gamma / sqrt(running_var + eps) per neuron, or ones without batch norm. */
    static double[] bnScale(Site site) {
        double[] c = new double[site.neurons()];
        BatchNorm bn = site.batchNorm();
        if (bn == null) {
            java.util.Arrays.fill(c, 1.0);
            return c;
        }
        double eps = ((Number) bn.config().get("eps")).doubleValue();
        double[] gamma = bn.parameter("weight").toDoubleArray(), var = bn.buffer("running_var").toDoubleArray();
        for (int i = 0; i < c.length; i++) {
            c[i] = gamma[i] / Math.sqrt(var[i] + eps);
        }
        return c;
    }

    /** sigma'' of the site's activation at z (the softplus surrogate with {@code surrogateBeta} for ReLU). */
    public static Tensor sigma2(Act act, Tensor z, double surrogateBeta) {
        if (act.function() == Activation.RELU) {
            return Ops.activation(z, Activation.SOFTPLUS, 2, surrogateBeta);
        }
        return act.derivative(z, 2);
    }

    /** {@code a[m, i] = g[m, i] * sigma''(z[m, i]) * c_i^2}, the weights of the splitting matrices ({@code [M, C]}). */
    public Tensor splittingWeights(Act act, double surrogateBeta) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            double[] c2 = new double[c.length];
            for (int i = 0; i < c.length; i++) {
                c2[i] = c[i] * c[i];
            }
            return g.mul(sigma2(act, z, surrogateBeta)).mul(Tensor.of(c2).to(z.dtype()));
        }
    }

    /** Rows {@code M} of u, z and g. */
    public int rows() {
        return u.dim(0);
    }

}
