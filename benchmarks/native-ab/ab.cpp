// benchmarks/native-ab/ab.cpp - same-process A/B of Sprout's native kernels (the C++ of engine-native, compiled as the library is: -O3 -mavx2
// -mfma, AVX-512 under #pragma GCC target) against OpenBLAS 0.3.31 (bytedeco's libopenblas, dlopen'd):
// sgemm/dgemm n = 64..2048 at 1 thread (thread CPU time and wall) and 2 threads (wall; Sprout splits rows across
// 2 std::threads as NativeBackend does; OpenBLAS with openblas_set_num_threads(2)); batched symmetric eigen vs
// LAPACKE_ssyevd in a loop; complex LU solve (1 and n right-hand sides) vs LAPACKE_cgesv, 1 thread. Interleaved rounds, medians.
#include "sprout_native.h"
#include <dlfcn.h>
#include <cstdio>
#include <random>
#include <thread>
#include <time.h>
typedef void (*sgemm_t)(int,int,int,int,int,int,float,const float*,int,const float*,int,float,float*,int);
typedef void (*dgemm_t)(int,int,int,int,int,int,double,const double*,int,const double*,int,double,double*,int);
typedef int (*syevd_t)(int, char, char, int, float*, int, float*);
typedef int (*cgesv_t)(int, int, int, float*, int, int*, float*, int);
static double now(clockid_t c){ timespec t; clock_gettime(c,&t); return t.tv_sec+1e-9*t.tv_nsec; }
struct R { double cpu, wall; };
template<class F> R rate(F f, double flops){ f(); double t0=now(CLOCK_MONOTONIC); f(); double once=now(CLOCK_MONOTONIC)-t0;
  int reps=std::max(1,(int)(0.25/std::max(once,1e-7))); std::vector<double> vc, vw;
  for(int r=0;r<5;r++){ double c0=now(CLOCK_THREAD_CPUTIME_ID), w0=now(CLOCK_MONOTONIC); for(int q=0;q<reps;q++) f();
    vc.push_back((now(CLOCK_THREAD_CPUTIME_ID)-c0)/reps); vw.push_back((now(CLOCK_MONOTONIC)-w0)/reps);} 
  std::sort(vc.begin(),vc.end()); std::sort(vw.begin(),vw.end()); return {flops/vc[2]/1e9, flops/vw[2]/1e9}; }
int main(int argc,char**argv){
  const char* lib = argc>1 ? argv[1] : "libopenblas.so.0";
  void* h=dlopen(lib,RTLD_NOW); if(!h){printf("dlopen: %s\n",dlerror());return 1;}
  auto sg=(sgemm_t)dlsym(h,"cblas_sgemm"); auto dg=(dgemm_t)dlsym(h,"cblas_dgemm"); auto syevd=(syevd_t)dlsym(h,"LAPACKE_ssyevd"); auto cgesvL=(cgesv_t)dlsym(h,"LAPACKE_cgesv");
  auto setn=(void(*)(int))dlsym(h,"openblas_set_num_threads"); auto core=(char*(*)())dlsym(h,"openblas_get_corename");
  __builtin_cpu_init(); int isa = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") ? 512 : 256;
  setn(1); printf("openblas core %s; sprout isa %d\n", core(), isa);
  for(int n : {64,128,256,512,1024,2048}){ std::vector<float> a(n*n),b(n*n),c(n*n); std::vector<double> ad(n*n),bd(n*n),cd(n*n); std::mt19937 r(1); std::uniform_real_distribution<float> u(-1,1);
    for(int i=0;i<n*n;i++){a[i]=u(r);b[i]=u(r);ad[i]=a[i];bd[i]=b[i];}
    double fl=2.0*n*n*n;
    auto sp=[&](int rows0,int rows1){ sprout::sgemm(isa,0,0,rows1-rows0,n,n,1.f,a.data(),(long long)rows0*n,n,0,b.data(),0,n,0,0.f,c.data(),(long long)rows0*n,n,0,1); };
    auto dp=[&](int rows0,int rows1){ sprout::dgemm(isa,0,0,rows1-rows0,n,n,1.,ad.data(),(long long)rows0*n,n,0,bd.data(),0,n,0,0.,cd.data(),(long long)rows0*n,n,0,1); };
    setn(1);
    R s1=rate([&]{sp(0,n);},fl), o1=rate([&]{sg(101,111,111,n,n,n,1.f,a.data(),n,b.data(),n,0.f,c.data(),n);},fl);
    R d1=rate([&]{dp(0,n);},fl), od1=rate([&]{dg(101,111,111,n,n,n,1.,ad.data(),n,bd.data(),n,0.,cd.data(),n);},fl);
    int half=(n/2+63)/64*64; if(half>=n) half=n/2;
    R s2=rate([&]{std::thread t([&]{sp(half,n);}); sp(0,half); t.join();},fl);
    R d2=rate([&]{std::thread t([&]{dp(half,n);}); dp(0,half); t.join();},fl);
    setn(2);
    R o2=rate([&]{sg(101,111,111,n,n,n,1.f,a.data(),n,b.data(),n,0.f,c.data(),n);},fl);
    R od2=rate([&]{dg(101,111,111,n,n,n,1.,ad.data(),n,bd.data(),n,0.,cd.data(),n);},fl);
    setn(1);
    printf("n=%4d sgemm 1t cpu: sprout %6.1f openblas %6.1f ratio %.2f | wall %6.1f/%6.1f | 2t wall: sprout %6.1f openblas %6.1f ratio %.2f (sprout 2t/1t %.2f)\n",
      n,s1.cpu,o1.cpu,s1.cpu/o1.cpu,s1.wall,o1.wall,s2.wall,o2.wall,s2.wall/o2.wall,s2.wall/s1.wall);
    printf("n=%4d dgemm 1t cpu: sprout %6.1f openblas %6.1f ratio %.2f | wall %6.1f/%6.1f | 2t wall: sprout %6.1f openblas %6.1f ratio %.2f (sprout 2t/1t %.2f)\n",
      n,d1.cpu,od1.cpu,d1.cpu/od1.cpu,d1.wall,od1.wall,d2.wall,od2.wall,d2.wall/od2.wall,d2.wall/d1.wall);
    fflush(stdout);
  }
  setn(1);
  for (auto nb : std::vector<std::pair<int,int>>{{64,1000},{256,50},{576,10}}) { int n=nb.first, batch=nb.second;
    std::vector<float> a((size_t)batch*n*n), w((size_t)batch*n), v((size_t)batch*n*n), tmp(n*n); std::mt19937 r(1); std::normal_distribution<float> g;
    for (int bb=0;bb<batch;bb++) for(int i=0;i<n;i++) for(int j=0;j<=i;j++){ float x=g(r); a[(size_t)bb*n*n+i*n+j]=x; a[(size_t)bb*n*n+j*n+i]=x; }
    std::vector<double> ts, tl, t2;
    for (int rep=0; rep<3; rep++) {
      double c0=now(CLOCK_THREAD_CPUTIME_ID); sprout::symEigF32(isa,batch,n,n,a.data(),0,w.data(),0,v.data(),0); ts.push_back(now(CLOCK_THREAD_CPUTIME_ID)-c0);
      c0=now(CLOCK_THREAD_CPUTIME_ID); for (int bb=0;bb<batch;bb++){ std::copy(a.begin()+(size_t)bb*n*n,a.begin()+(size_t)(bb+1)*n*n,tmp.begin()); syevd(101,'V','U',n,tmp.data(),n,w.data()+(size_t)bb*n);} tl.push_back(now(CLOCK_THREAD_CPUTIME_ID)-c0);
      double w0=now(CLOCK_MONOTONIC); int hb=batch/2; std::thread t([&]{ sprout::symEigF32(isa,batch-hb,n,n,a.data()+(size_t)hb*n*n,0,w.data()+(size_t)hb*n,0,v.data()+(size_t)hb*n*n,0);});
      sprout::symEigF32(isa,hb,n,n,a.data(),0,w.data(),0,v.data(),0); t.join(); t2.push_back(now(CLOCK_MONOTONIC)-w0); }
    std::sort(ts.begin(),ts.end()); std::sort(tl.begin(),tl.end()); std::sort(t2.begin(),t2.end());
    printf("eigh f32 %d x %dx%d, all pairs: sprout 1t %.1f ms (cpu), LAPACKE_ssyevd loop 1t %.1f ms (cpu), ratio %.2f; sprout 2 threads %.1f ms wall\n", batch, n, n, 1e3*ts[1], 1e3*tl[1], ts[1]/tl[1], 1e3*t2[1]);
    fflush(stdout);
  }

  setn(1);
  for (int n : {64, 256, 512, 1024}) {
    for (int nrhs : {1, n}) {
      std::vector<float> a(2*(size_t)n*n), b(2*(size_t)n*nrhs), wa(a.size()), wb(b.size()); std::vector<int> ipiv(n);
      std::mt19937 r(2); std::normal_distribution<float> g; for (auto& x : a) x = g(r); for (auto& x : b) x = g(r);
      for (int i = 0; i < n; i++) a[2*((size_t)i*n+i)] += n;
      std::vector<double> ts, tl;
      for (int rep = 0; rep < 3; rep++) {
        wa = a; wb = b; double c0 = now(CLOCK_THREAD_CPUTIME_ID); sprout::cgesv(isa, n, nrhs, wa.data(), 0, wb.data(), 0); ts.push_back(now(CLOCK_THREAD_CPUTIME_ID) - c0);
        wa = a; wb = b; c0 = now(CLOCK_THREAD_CPUTIME_ID); cgesvL(101, n, nrhs, wa.data(), n, ipiv.data(), wb.data(), nrhs); tl.push_back(now(CLOCK_THREAD_CPUTIME_ID) - c0);
      }
      std::sort(ts.begin(), ts.end()); std::sort(tl.begin(), tl.end());
      printf("cgesv c64 n=%4d nrhs=%4d: sprout %.2f ms, LAPACKE_cgesv %.2f ms (cpu), ratio %.2f\n", n, nrhs, 1e3*ts[1], 1e3*tl[1], ts[1]/tl[1]);
      fflush(stdout);
    }
  }
}
