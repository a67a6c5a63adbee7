package dev.sprout.growth.continual;

import dev.sprout.autograd.Autograd;
import dev.sprout.data.Dataset;
import dev.sprout.data.TrainTest;
import dev.sprout.nn.Pool2d;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Task-incremental splits of a classification dataset (spec section 14 R4): task {@code t} holds the classes
 * {@code t*k .. t*k+k-1}, relabelled {@code 0..k-1} (each task has its own head, so a task's labels are local); its
 * training examples are split into training and a validation part (for growth decisions and selection, never the test
 * set); its test set is the test examples of its classes.
 */
public final class SplitTasks {
    private SplitTasks() {
    }

    /** One task: its number, its classes (global labels), and its data with local labels. */
    public record Task(int index, int[] classes, Dataset train, Dataset validation, Dataset test) {
        public int numClasses() {
            return classes.length;
        }
    }

    /**
     * Splits {@code data} (normalised with its training statistics first) into {@code numClasses / perTask} tasks.
     *
     * @param pool       average-pool images by this factor first (1: none); images are then flattened
     * @param validation fraction of each task's training examples held out for validation, in (0, 1)
     */
    public static List<Task> split(TrainTest data, int perTask, int pool, double validation, long seed) {
        Dataset train = data.train(), test = data.test();
        if (!train.isClassification()) {
            throw new IllegalArgumentException("task-incremental splits need a classification dataset, got " + train.name());
        }
        int classes = train.numClasses();
        if (perTask < 1 || classes % perTask != 0 || classes / perTask < 2) {
            throw new IllegalArgumentException("cannot split " + classes + " classes into tasks of " + perTask
                    + " (need at least two tasks of equal size)");
        }
        TrainTest t = data.normalised();
        train = prepare(t.train(), pool);
        test = prepare(t.test(), pool);
        List<Task> out = new ArrayList<>();
        Rng rng = new Rng(seed ^ 0x7A5C5L);
        for (int k = 0; k < classes / perTask; k++) {
            int[] cls = new int[perTask];
            for (int j = 0; j < perTask; j++) {
                cls[j] = k * perTask + j;
            }
            Dataset tr = select(train, cls, "task" + k + "/train"), te = select(test, cls, "task" + k + "/test");
            Dataset.Split sp = tr.split(validation, rng);
            out.add(new Task(k, cls, sp.train(), sp.validation(), te));
        }
        return out;
    }

    /** The examples of {@code classes}, relabelled by their position in it. */
    static Dataset select(Dataset d, int[] classes, String name) {
        int[] local = new int[d.numClasses()];
        java.util.Arrays.fill(local, -1);
        for (int j = 0; j < classes.length; j++) {
            local[classes[j]] = j;
        }
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            if (local[d.label(i)] >= 0) {
                idx.add(i);
            }
        }
        if (idx.isEmpty()) {
            throw new IllegalArgumentException(d.name() + " has no example of classes " + java.util.Arrays.toString(classes));
        }
        int[] ix = idx.stream().mapToInt(Integer::intValue).toArray();
        Dataset sub = d.subset(ix);
        int[] labels = new int[ix.length];
        for (int i = 0; i < ix.length; i++) {
            labels[i] = local[sub.label(i)];
        }
        return Dataset.classification(name, sub.inputs(), labels, classes.length);
    }

    /** Pools images (if asked) and flattens them. */
    static Dataset prepare(Dataset d, int pool) {
        if (d.exampleShape().length != 3) {
            return d;
        }
        Tensor x = d.inputs();
        if (pool > 1) {
            try (Autograd.Scope s = Autograd.noGrad()) {
                x = Pool2d.avg(pool).forward(x);
            }
        }
        Tensor flat = x.reshape(x.dim(0), x.numel() / x.dim(0)).contiguous();
        return Dataset.classification(d.name(), flat, d.labels(), d.numClasses(), d.classNames());
    }
}
