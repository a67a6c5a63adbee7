package dev.sprout.cuda;

import dev.sprout.backend.Backend;
import dev.sprout.backend.BackendProvider;

/**
 * Provides the CUDA backend, ranked above the native and Java backends so that automatic selection prefers
 * a GPU. The probe (libcuda present, driver version, device count, compute capability, kernels built) runs
 * once; its reason is what {@code sprout doctor} and the fallback log line print.
 */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int rank() {
        return 300;
    }

    @Override
    public Probe probe() {
        if (!CudaDevice.available()) {
            return Probe.unavailable(CudaDevice.unavailableReason());
        }
        CudaDevice d = CudaDevice.shared();
        long[] mem = d.memoryInfo();
        return Probe.ok(d.describe() + ", " + CudaProbe.detail() + ", " + (mem[0] >> 20) + " MiB free of "
                + (mem[1] >> 20) + " MiB");
    }

    @Override
    public Backend create() {
        return new CudaBackend();
    }
}
