#include "src/apiserver/admission.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shortcut::apiserver {
namespace {

TEST(AdmissionTest, AdmitsUpToItsLimitThenRefusesUntilATicketGoes) {
  Admission admission(2);
  Admission::Ticket a = admission.TryAdmit();
  Admission::Ticket b = admission.TryAdmit();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(admission.TryAdmit(), nullptr);
  EXPECT_EQ(admission.TryAdmit(), nullptr);
  EXPECT_EQ(admission.in_flight(), 2u);
  EXPECT_EQ(admission.refused(), 2u);
  EXPECT_EQ(admission.admitted(), 2u);

  a.reset();
  EXPECT_EQ(admission.in_flight(), 1u);
  Admission::Ticket c = admission.TryAdmit();
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(admission.admitted(), 3u);
}

TEST(AdmissionTest, ACopiedTicketCountsOnceUntilItsLastCopyGoes) {
  // A call's ticket is copied into the work's completion: the call stays
  // counted while its work runs, after its gRPC thread has given up.
  Admission admission(1);
  Admission::Ticket held = admission.TryAdmit();
  Admission::Ticket copy = held;
  held.reset();
  EXPECT_EQ(admission.in_flight(), 1u);
  EXPECT_EQ(admission.TryAdmit(), nullptr);
  copy.reset();
  EXPECT_EQ(admission.in_flight(), 0u);
  EXPECT_NE(admission.TryAdmit(), nullptr);
}

TEST(AdmissionTest, ATicketMayOutliveItsAdmission) {
  Admission::Ticket ticket;
  {
    Admission admission(1);
    ticket = admission.TryAdmit();
    ASSERT_NE(ticket, nullptr);
  }
  ticket.reset();  // Under ASan: no use after free.
}

TEST(AdmissionTest, ThreadsRacingNeverHoldMoreThanTheLimit) {
  constexpr size_t kLimit = 3;
  Admission admission(kLimit);
  std::atomic<size_t> holding{0};
  std::atomic<size_t> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        Admission::Ticket ticket = admission.TryAdmit();
        if (ticket == nullptr) continue;
        size_t now = holding.fetch_add(1) + 1;
        size_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        holding.fetch_sub(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(admission.in_flight(), 0u);
  EXPECT_EQ(admission.admitted() + admission.refused(), 8u * 20000u);
}

}  // namespace
}  // namespace shortcut::apiserver
