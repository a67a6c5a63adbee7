package dev.sprout.growth;

import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Dropout;
import dev.sprout.nn.Residual;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A growable layer of a {@link Sequential}: a {@link Linear} or {@link Conv2d} whose neurons (rows / output
 * channels) can be split or added, the batch norm and activation that follow it, and the layer that consumes its
 * output (whose input columns / channels must be resized with it). Between the activation and the consumer only
 * pass-through modules may stand (pooling, dropout, flatten) and {@link Residual} blocks (inserted by depth growth;
 * their input and output have the site's width, so they are resized with it); a flatten makes each channel own
 * {@code H*W} consecutive input columns of a linear consumer.
 *
 * <p>The network's last weight layer (the classifier) is never a site: its outputs are the classes.
 */
public final class Site {
    private final Sequential net;
    private final int index, bnIndex, actIndex, consumerIndex;

    private Site(Sequential net, int index, int bnIndex, int actIndex, int consumerIndex) {
        this.net = net;
        this.index = index;
        this.bnIndex = bnIndex;
        this.actIndex = actIndex;
        this.consumerIndex = consumerIndex;
    }

    /** The sites of a sequential network, in order. */
    public static List<Site> find(Sequential net) {
        List<Site> out = new ArrayList<>();
        List<Module> layers = net.layers();
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            if (!(m instanceof Linear) && !(m instanceof Conv2d)) {
                continue;
            }
            int j = i + 1, bn = -1, act = -1;
            if (j < layers.size() && layers.get(j) instanceof BatchNorm) {
                bn = j++;
            }
            if (j < layers.size() && layers.get(j) instanceof Act) {
                act = j++;
            }
            while (j < layers.size() && (layers.get(j) instanceof Pool2d || layers.get(j) instanceof Dropout
                    || layers.get(j) instanceof Flatten || layers.get(j) instanceof Residual)) {
                j++;
            }
            if (act < 0 || j >= layers.size() || !(layers.get(j) instanceof Linear || layers.get(j) instanceof Conv2d)) {
                continue; // no activation (not a hidden layer) or no weight layer consuming it (the classifier)
            }
            out.add(new Site(net, i, bn, act, j));
        }
        return out;
    }

    /** The site whose layer has this name in the sequential ({@code "0"}, {@code "3"}, ...). */
    public static Site named(Sequential net, String name) {
        for (Site s : find(net)) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        List<String> names = new ArrayList<>();
        find(net).forEach(s -> names.add(s.name()));
        throw new IllegalArgumentException("no growable layer named '" + name + "' (growable: " + names + ")");
    }

    public Sequential net() {
        return net;
    }

    /** Position of the layer in the sequential. */
    public int index() {
        return index;
    }

    /** The layer's name in the sequential (its parameters are {@code name + ".weight"}). */
    public String name() {
        return childName(index);
    }

    String childName(int i) {
        Module m = net.get(i);
        for (var e : net.children().entrySet()) {
            if (e.getValue() == m) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("layer " + i + " not found among the children");
    }

    public Module layer() {
        return net.get(index);
    }

    public boolean isConv() {
        return layer() instanceof Conv2d;
    }

    public BatchNorm batchNorm() {
        return bnIndex < 0 ? null : (BatchNorm) net.get(bnIndex);
    }

    public int batchNormIndex() {
        return bnIndex;
    }

    public Act activation() {
        return (Act) net.get(actIndex);
    }

    public int activationIndex() {
        return actIndex;
    }

    public Module consumer() {
        return net.get(consumerIndex);
    }

    public int consumerIndex() {
        return consumerIndex;
    }

    /** The residual blocks between the activation and the consumer, in order (resized with the site's width). */
    public List<Residual> residuals() {
        List<Residual> out = new ArrayList<>();
        for (int i = actIndex + 1; i < consumerIndex; i++) {
            if (net.get(i) instanceof Residual r) {
                out.add(r);
            }
        }
        return out;
    }

    /** Neurons (rows of a linear layer, output channels of a convolution). */
    public int neurons() {
        return layer().parameter("weight").dim(0);
    }

    /** Length of a neuron's incoming weight vector: inputs of a linear layer, {@code C_in * k * k} of a convolution. */
    public int fanIn() {
        Tensor w = layer().parameter("weight");
        return w.numel() / w.dim(0);
    }

    /** Input columns of a linear consumer that belong to one neuron (1, or H*W after a flatten); 1 for a conv. */
    public int columnsPerNeuron() {
        Module c = consumer();
        if (c instanceof Conv2d) {
            return 1;
        }
        int in = ((Linear) c).in();
        if (in % neurons() != 0) {
            throw new IllegalStateException("consumer " + childName(consumerIndex) + " has " + in + " inputs, not a multiple of the "
                    + neurons() + " neurons of " + name());
        }
        return in / neurons();
    }

    /**
     * FLOPs one example's forward pass gains when this site gets one more neuron: its own row (or filter) at every
     * output position, its input column(s) (or channel) in the consumer, and its entries in residual blocks between.
     *
     * @param siteInputShape the shape (without batch) entering this site's layer
     */
    public long flopsPerNeuron(int[] siteInputShape) {
        Module m = layer();
        int[] out = m.outputShape(siteInputShape);
        long positions = out.length == 3 ? (long) out[1] * out[2] : 1;
        long own = 2L * fanIn() * positions;
        long next;
        if (consumer() instanceof Conv2d c) {
            int[] s = siteInputShape;
            for (int i = index; i < consumerIndex; i++) {
                s = net.get(i).outputShape(s);
            }
            int[] cout = c.outputShape(s);
            next = 2L * c.kernel() * c.kernel() * c.out() * cout[1] * cout[2];
        } else {
            next = 2L * columnsPerNeuron() * ((Linear) consumer()).out();
        }
        for (Residual r : residuals()) {
            next += 4L * r.hidden() + 1; // its in_weight column and out_weight row, and the skip addition
        }
        return own + next;
    }

    /** The shape (without batch) entering this site's layer, for a network input shape. */
    public int[] inputShape(int[] networkInputShape) {
        return outputUpTo(index, networkInputShape);
    }

    /** Parameters one more neuron adds (its row, bias, batch-norm affine pair, consumer columns, residual blocks' entries). */
    public long paramsPerNeuron() {
        Module c = consumer();
        long next = c instanceof Conv2d cv ? (long) cv.out() * cv.kernel() * cv.kernel() : (long) columnsPerNeuron() * ((Linear) c).out();
        boolean bias = layer() instanceof Linear l ? l.hasBias() : ((Conv2d) layer()).hasBias();
        long res = 0;
        for (Residual r : residuals()) {
            res += 2L * r.hidden() + 1; // its in_weight column, out_weight row and out_bias entry
        }
        return fanIn() + (bias ? 1 : 0) + (batchNorm() != null ? 2 : 0) + next + res;
    }

    /** The shape (without batch) entering layer {@code upTo} for a network input shape. */
    int[] outputUpTo(int upTo, int[] inputShape) {
        int[] s = inputShape;
        for (int i = 0; i < upTo; i++) {
            s = net.get(i).outputShape(s);
        }
        return s;
    }

    @Override
    public String toString() {
        return "site " + name() + " (" + layer().type() + ", " + neurons() + " neurons)";
    }
}
