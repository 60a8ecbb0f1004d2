// The thread policy of every kernel: fastloss's own pool of helper threads.
//
// Why not OpenMP's runtime: its threads spin-wait after each parallel region
// and every region waits for all of its team, so on a machine whose cores are
// busy with other processes a call waits for the time slice of a descheduled
// helper (measured: 1 ms on one thread, 16 ms on two); a fork()ed child that
// makes a threaded call hangs inside libgomp; and a thread that cannot be
// created ends the process. This pool
//
// * never makes a call wait for a helper that has not started: the calling
//   thread claims tiles itself, helpers join when the scheduler runs them and
//   claim what is left, and the call ends when every claimed tile is done (a
//   helper that wakes late finds nothing to do);
// * waits passively: helpers spin a few microseconds after a call (so that
//   back-to-back calls find them awake), then sleep on a condition variable;
// * is rebuilt lazily in a fork()ed child (an at-fork handler forgets the
//   parent's threads, which do not exist in the child);
// * treats a thread that cannot be created as fewer threads;
// * runs a call on the calling thread alone when another call already holds
//   the pool (concurrent callers do not oversubscribe the cores), or when
//   called from inside a parallel region of the program's own OpenMP.
//
// Results never depend on which thread runs a tile: work is cut into tiles by
// the shape alone and the tiles' partial results are combined in tile order.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define FASTLOSS_PAUSE() _mm_pause()
#else
#define FASTLOSS_PAUSE() std::this_thread::yield()
#endif

// Loop-vectorisation hint: OpenMP's simd pragma when OpenMP or -fopenmp-simd
// (which this project's own build uses, defining FASTLOSS_OPENMP_SIMD) is on,
// GCC's ivdep otherwise, nothing elsewhere. Never changes results: the loops
// it marks have no cross-iteration dependences.
#if defined(_OPENMP) || defined(FASTLOSS_OPENMP_SIMD)
#define FASTLOSS_SIMD _Pragma("omp simd")
#elif defined(__GNUC__) && !defined(__clang__)
#define FASTLOSS_SIMD _Pragma("GCC ivdep")
#else
#define FASTLOSS_SIMD
#endif

// FASTLOSS_NO_THREADS: every kernel runs on the calling thread.
#if !defined(FASTLOSS_NO_THREADS)
#define FASTLOSS_THREADS 1
#else
#define FASTLOSS_THREADS 0
#endif

namespace fastloss {

/// Most threads a call may use (set_num_threads refuses more).
inline constexpr int kMaxThreads = 1024;

namespace detail {

/// The CPUs this process may run on (its affinity mask), at least 1.
inline int available_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

/// The default thread count: OMP_NUM_THREADS's first number when it is a
/// positive integer (as NumPy's BLAS and scikit-learn read it), else the CPUs
/// the process may run on.
inline int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && n >= 1) return static_cast<int>(std::min<long>(n, kMaxThreads));
  }
  return std::min(available_cpus(), kMaxThreads);
}

inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set, use default_threads()
  return n;
}

/// Microseconds' worth of spinning a helper does after a call before it
/// sleeps (pause instructions, about 40 ns each on current x86).
inline constexpr int kHelperSpins = 1000;

#if FASTLOSS_THREADS

/// The pool. One call at a time holds it (`busy`); its tiles are claimed
/// through `claim`, which packs the call's generation (high 32 bits) with the
/// next unclaimed tile (low 32 bits), so a helper still looking at an earlier
/// call can never claim a tile of a later one.
class Pool {
 public:
  using Fn = void (*)(const void*, std::ptrdiff_t);

  /// Runs fn(ctx, t) for t in [first, tiles) on up to `threads` threads, the
  /// calling one included. False when the pool is held by another call (the
  /// caller then runs the tiles itself).
  bool run(std::ptrdiff_t first, std::ptrdiff_t tiles, int threads, Fn fn, const void* ctx) {
    if (tiles >= (std::ptrdiff_t(1) << 31) || busy_.exchange(true, std::memory_order_acquire))
      return false;
    const int helpers = grow(std::min<std::ptrdiff_t>(threads, tiles - first) - 1);
    if (helpers == 0) {
      busy_.store(false, std::memory_order_release);
      return false;
    }
    const std::uint64_t gen = (claim_.load(std::memory_order_relaxed) >> 32) + 1;
    Slot& slot = slots_[gen & 1];
    slot.fn.store(fn, std::memory_order_relaxed);
    slot.ctx.store(ctx, std::memory_order_relaxed);
    slot.tiles.store(static_cast<std::uint32_t>(tiles), std::memory_order_relaxed);
    slot.done.store(first, std::memory_order_relaxed);
    claim_.store((gen << 32) | static_cast<std::uint64_t>(first),
                 std::memory_order_seq_cst);  // publishes the call
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    work(static_cast<std::uint32_t>(gen));
    // every tile is claimed: wait for the ones helpers are running
    for (int spin = 0; slot.done.load(std::memory_order_acquire) != tiles; ++spin) {
      if (spin < 4096) {
        FASTLOSS_PAUSE();
      } else {
        std::this_thread::yield();  // a running helper may share this core
      }
    }
    busy_.store(false, std::memory_order_release);
    return true;
  }

  /// Helpers started so far.
  int size() const { return started_.load(std::memory_order_relaxed); }

 private:
  /// Claims and runs tiles of generation gen until none is left. A call's
  /// fields live in the slot of its generation's parity: the next call fills
  /// the other slot, so a helper still holding a claim word of this call
  /// reads this call's fields (and its compare-exchange fails once the next
  /// call has published its generation); the slot is reused two calls later,
  /// after this call has seen all its tiles done.
  void work(std::uint32_t gen) {
    Slot& slot = slots_[gen & 1];
    std::uint64_t c = claim_.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<std::uint32_t>(c >> 32) != gen) return;
      const std::uint32_t t = static_cast<std::uint32_t>(c);
      if (t >= slot.tiles.load(std::memory_order_relaxed)) return;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;
      slot.fn.load(std::memory_order_relaxed)(slot.ctx.load(std::memory_order_relaxed), t);
      slot.done.fetch_add(1, std::memory_order_release);
      c = claim_.load(std::memory_order_acquire);
    }
  }

  /// Starts helpers up to `want` (creation failures mean fewer); returns
  /// how many can help.
  int grow(std::ptrdiff_t want) {
    int have = started_.load(std::memory_order_relaxed);
    while (have < want && !failed_) {
      try {
        std::thread(&Pool::helper, this).detach();
      } catch (...) {  // std::system_error: no more threads in this process
        failed_ = true;
        break;
      }
      started_.store(++have, std::memory_order_relaxed);
    }
    return static_cast<int>(std::min<std::ptrdiff_t>(have, want));
  }

  [[noreturn]] void helper() {
    std::uint32_t seen = static_cast<std::uint32_t>(claim_.load(std::memory_order_acquire) >> 32);
    for (;;) {
      std::uint32_t gen = seen;
      for (int spin = 0; spin < kHelperSpins && gen == seen; ++spin) {
        FASTLOSS_PAUSE();
        gen = static_cast<std::uint32_t>(claim_.load(std::memory_order_acquire) >> 32);
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_.fetch_add(1, std::memory_order_seq_cst);
        while ((gen = static_cast<std::uint32_t>(claim_.load(std::memory_order_seq_cst) >> 32)) ==
               seen)
          wake_.wait(lock);
        sleeping_.fetch_sub(1, std::memory_order_relaxed);
      }
      seen = gen;
      work(gen);
    }
  }

  std::atomic<bool> busy_{false};
  std::atomic<std::uint64_t> claim_{0};
  struct Slot {
    std::atomic<Fn> fn{nullptr};
    std::atomic<const void*> ctx{nullptr};
    std::atomic<std::uint32_t> tiles{0};
    std::atomic<std::ptrdiff_t> done{0};
  };
  Slot slots_[2];
  std::atomic<int> started_{0};
  std::atomic<int> sleeping_{0};
  bool failed_ = false;  // only touched by the call holding the pool
  std::mutex mutex_;
  std::condition_variable wake_;
};

/// The process's pool, made on first use. Its helpers are detached and the
/// pool is never destroyed (helpers may outlive static destruction at exit).
/// In a fork()ed child the parent's helpers do not exist: the at-fork
/// handler forgets the pool (kept reachable, never freed) and the child
/// makes its own on its first threaded call.
inline std::atomic<Pool*>& pool_slot() {
  static std::atomic<Pool*> slot{nullptr};
  return slot;
}

inline std::vector<Pool*>& forgotten_pools() {
  static std::vector<Pool*>* pools = new std::vector<Pool*>();  // reachable, never freed
  return *pools;
}

inline void forget_pool_after_fork() {
  Pool* p = pool_slot().exchange(nullptr);
  if (p) forgotten_pools().push_back(p);
}

inline Pool& pool() {
  Pool* p = pool_slot().load(std::memory_order_acquire);
  if (p) return *p;
  static std::mutex make;
  std::lock_guard<std::mutex> lock(make);
  p = pool_slot().load(std::memory_order_acquire);
  if (!p) {
#if defined(__linux__)
    static const bool registered = [] {
      return pthread_atfork(nullptr, nullptr, [] { forget_pool_after_fork(); }) == 0;
    }();
    (void)registered;
#endif
    p = new Pool();
    pool_slot().store(p, std::memory_order_release);
  }
  return *p;
}

#endif  // FASTLOSS_THREADS

/// Helper threads started in this process so far (0 before the first
/// threaded call, after a fork, or without threads).
inline int pool_helpers() {
#if FASTLOSS_THREADS
  Pool* p = pool_slot().load(std::memory_order_acquire);
  return p ? p->size() : 0;
#else
  return 0;
#endif
}

}  // namespace detail

/// True when the kernels can use more than one thread.
inline constexpr bool has_threads() { return FASTLOSS_THREADS != 0; }

/// True when the including program is compiled with OpenMP (fastloss then
/// runs a call from inside one of its parallel regions on the calling thread).
/// Threads no longer come from OpenMP: see has_threads().
inline constexpr bool has_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

/// Number of threads the kernels use: set_num_threads's value, else
/// OMP_NUM_THREADS, else the CPUs the process may run on; 1 without threads.
inline int get_num_threads() {
#if FASTLOSS_THREADS
  const int n = detail::thread_setting().load(std::memory_order_relaxed);
  if (n > 0) return n;
  static const int fallback = detail::default_threads();
  return fallback;
#else
  return 1;
#endif
}

/// Sets the thread count for subsequent kernels (clamped to [1, kMaxThreads];
/// the Python binding refuses values outside). Results do not depend on it.
inline void set_num_threads(int n) {
  detail::thread_setting().store(std::clamp(n, 1, kMaxThreads), std::memory_order_relaxed);
}

namespace detail {

/// Whether a call may use helper threads: not from inside a parallel region
/// of the program's own OpenMP (it would multiply the threads).
inline bool may_use_helpers() {
#ifdef _OPENMP
  if (omp_in_parallel()) return false;
#endif
  return true;
}

/// Threads a call cut into `tasks` tiles may use: up to the thread count,
/// one per tile; one from inside a parallel region of the program's OpenMP.
/// Whether helpers are then woken is parallel_for's measured decision.
inline int threads_for(std::ptrdiff_t tasks) {
  if (tasks < 2 || !may_use_helpers()) return 1;
  return static_cast<int>(std::min<std::ptrdiff_t>(get_num_threads(), tasks));
}

/// Work below which waking helpers costs more than it can save: waking a
/// sleeping helper costs the caller a system call (~2 us) and the helper tens
/// of microseconds before it runs.
inline constexpr double kMinParallelSeconds = 20e-6;
/// After a threaded call that took kSlowCall times longer than the calling
/// thread alone would have (a helper preempted by other processes on a busy
/// machine while it held a tile), calls run on the calling thread for a pause,
/// then try helpers again; the pause doubles from kMinBackoffSeconds while
/// tries keep failing, up to kMaxBackoffSeconds, and a good call resets it. A
/// call that threads do not speed up (memory-bound) but do not slow down
/// either is not a failure.
inline constexpr double kSlowCall = 1.25;
inline constexpr double kMinBackoffSeconds = 0.01;
/// Up to 0.64 s: a machine kept busy for seconds (a CI runner, other
/// training jobs) costs one slow call per pause, and 80 ms pauses were short
/// against calls of 5-8 ms (MSE at 10^7 took 1.6x its one-thread time on 2
/// threads under load). A machine that turns idle runs on one thread for at
/// most one pause.
inline constexpr double kMaxBackoffSeconds = 0.64;

/// The helpers' recent record (process-wide): until when calls stay on the
/// calling thread, and the pause the next failure sets.
struct HelperRecord {
  std::atomic<double> serial_until{0.0};
  std::atomic<double> backoff{kMinBackoffSeconds};
};

inline HelperRecord& helper_record() {
  static HelperRecord record;
  return record;
}

inline double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Runs body(t) for t in [0, tasks) on up to `threads` threads (the calling
/// one included), tiles claimed one at a time. Whether helpers are worth
/// waking is measured, not guessed: the caller runs the first tile alone and
/// times it, and the rest goes to the pool only when it would take at least
/// kMinParallelSeconds on one thread (so each kernel family, loss, instruction
/// set and machine gets its own threshold). A threaded call is then checked
/// against that estimate: if it took longer than one thread would have (the
/// machine is busy and helpers ran late or were preempted), calls stay on the
/// calling thread for a while (HelperRecord), so a busy machine costs at most
/// one slow call per pause. Else, with threads == 1, when another call holds
/// the pool or no helper could be started, the calling thread runs everything.
/// Tiles are fixed by the shape, so none of this changes a bit of the results.
template <class Body>
void parallel_for(std::ptrdiff_t tasks, int threads, const Body& body) {
#if FASTLOSS_THREADS
  if (threads > 1 && tasks > 1) {
    const double start = seconds_now();
    body(0);
    const double first = seconds_now() - start;
    HelperRecord& record = helper_record();
    if (first * static_cast<double>(tasks - 1) >= kMinParallelSeconds &&
        start >= record.serial_until.load(std::memory_order_relaxed)) {
      auto call = [](const void* ctx, std::ptrdiff_t t) { (*static_cast<const Body*>(ctx))(t); };
      if (pool().run(1, tasks, threads, call, &body)) {
        const double end = seconds_now();
        if (end - start > kSlowCall * first * static_cast<double>(tasks)) {
          const double pause = record.backoff.load(std::memory_order_relaxed);
          record.serial_until.store(end + pause, std::memory_order_relaxed);
          record.backoff.store(std::min(2 * pause, kMaxBackoffSeconds),
                               std::memory_order_relaxed);
        } else {
          record.backoff.store(kMinBackoffSeconds, std::memory_order_relaxed);
        }
        return;
      }
    }
    for (std::ptrdiff_t t = 1; t < tasks; ++t) body(t);
    return;
  }
#else
  (void)threads;
#endif
  for (std::ptrdiff_t t = 0; t < tasks; ++t) body(t);
}

}  // namespace detail

}  // namespace fastloss
