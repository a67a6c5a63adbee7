package dev.sprout.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import static jcuda.driver.JCudaDriver.*;

/**
 * Finds out, once, whether Sprout's CUDA backend can run here, and if not, why: kernels not built (no nvcc
 * at build time), JCuda's native library or libcuda missing, no device, a device older than sm_80 (the
 * fatbin carries sm_80 and sm_90 code and compute_90 PTX). The first failure of JCuda is an
 * {@link UnsatisfiedLinkError} and every later one a bare {@link NoClassDefFoundError}, so the outcome is
 * cached here and JCuda is never touched again after a failure.
 */
public final class CudaProbe {

    private static volatile boolean done;
    private static String reason;
    private static String detail = "";
    private static byte[] fatbin;

    private CudaProbe() {
    }

    /** {@code null} when the backend can run, else the reason it cannot. */
    static synchronized String check() {
        if (done) {
            return reason;
        }
        done = true;
        try {
            fatbin = CudaDevice.readResource(CudaDevice.FATBIN);
        } catch (Exception e) {
            fatbin = null;
        }
        if (fatbin == null || fatbin.length == 0) {
            return reason = "built without CUDA kernels (no nvcc on the PATH or under CUDA_HOME at build time; "
                    + "resource " + CudaDevice.FATBIN + " missing)";
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return reason = "no CUDA driver: " + linkFailure(String.valueOf(e.getMessage()));
        } catch (RuntimeException e) {
            return reason = "cuInit failed: " + e.getMessage();
        }
        int[] version = new int[1], count = new int[1];
        cuDriverGetVersion(version);
        cuDeviceGetCount(count);
        String driver = (version[0] / 1000) + "." + (version[0] % 1000) / 10;
        if (count[0] == 0) {
            return reason = "CUDA driver " + driver + " found, but no CUDA device";
        }
        CUdevice dev = new CUdevice();
        cuDeviceGet(dev, 0);
        int[] major = new int[1], minor = new int[1];
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        detail = "driver " + driver + ", " + count[0] + " device(s), device 0 sm_" + major[0] + minor[0];
        if (major[0] < 8) {
            return reason = "device 0 has compute capability " + major[0] + "." + minor[0]
                    + "; Sprout's kernels need 8.0 or newer (" + detail + ")";
        }
        return reason = null;
    }

    /**
     * One line out of JCuda's multi-line load failure (it nests the stack traces of every attempt): the
     * missing shared object when the loader named one, else the first line.
     */
    static String linkFailure(String message) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([\\w.+-]+\\.so[\\w.]*): cannot open shared object file")
                .matcher(message);
        String missing = null;
        while (m.find()) {
            if (!m.group(1).contains("JCuda")) {
                missing = m.group(1);
                break;
            }
        }
        if (missing != null) {
            return missing + " not found (the NVIDIA driver is not installed or not on the loader path)";
        }
        String first = message.lines().findFirst().orElse(message).trim();
        return "JCuda's driver library could not be loaded (" + first + ")";
    }

    /** Driver version, device count and capability, as far as the probe got. */
    public static synchronized String detail() {
        check();
        return detail;
    }

    static byte[] fatbin() {
        return fatbin;
    }
}
