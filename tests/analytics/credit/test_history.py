"""Credit histories with known answers on SQLite and PostgreSQL: risk order and its reasons, FIFO
ageing, days-to-repay, predicted payment dates, the collections priority and its ties, and the
device reminders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from analytics.credit import device_reminders
from analytics.credit.report import credit_report
from analytics.credit.risk import BASE_SCORE
from tests.analytics.credit.support import NOW, Builder, day


def test_scores_order_customers_and_factors_say_why(credit_engine: Engine) -> None:
    report = credit_report(credit_engine, "s-cr", as_of=NOW)
    s = report.scores
    # the one who stopped paying is riskiest, the late payer near the limit next, the new customer
    # neutral, the reliable weekly payer safest
    assert s["c-stop"].score > s["c-late"].score > s["c-new"].score > s["c-rel"].score
    assert s["c-new"].score == BASE_SCORE and s["c-new"].little_history
    assert s["c-stop"].band == s["c-late"].band == "high" and s["c-rel"].band == "low"
    assert any(n.startswith("little history (2 credit purchases over 6 days)") for n in s["c-new"].notes)

    rel = s["c-rel"]
    assert "pays within 5 days on average" in rel.positive_factors
    assert "repays regularly, about every 7 days" in rel.positive_factors
    assert "buys weekly for 7 months" in rel.positive_factors
    assert rel.risk_factors == []
    late = s["c-late"]
    assert "balance 93 % of limit" in late.risk_factors
    assert "takes 42 days on average to pay" in late.risk_factors
    assert "oldest unpaid amount is 31 days old" in late.risk_factors
    stop = s["c-stop"]
    assert "no repayment for 91 days" in stop.risk_factors
    assert "oldest unpaid amount is 94 days old" in stop.risk_factors
    assert "no purchase for 80 days while owing" in stop.risk_factors
    # the factors' points add up to the score
    for r in (rel, late, stop):
        assert r.score == max(0, min(100, BASE_SCORE + sum(f.points for f in r.factors)))


def test_histories_balances_and_patterns(credit_engine: Engine) -> None:
    report = credit_report(credit_engine, "s-cr", as_of=NOW)
    h = report.histories
    assert report.as_of == "2026-11-21"
    assert {k: v.balance for k, v in h.items()} == {"c-rel": 30000, "c-late": 186000, "c-new": 40000, "c-stop": 60000}
    assert all(v.balance == v.reported_balance == v.ledger_balance for v in h.values())
    rel = h["c-rel"]
    assert rel.purchases.cadence == "weekly" and rel.purchases.credit_purchases == 35  # the voided sale left out
    assert rel.repayments.regularity == "regular" and rel.repayments.median_interval_days == 7
    assert rel.avg_days_to_repay == 5 and rel.utilisation == 0.06
    assert h["c-stop"].purchases.trend == "stopped"
    assert [i.day for i in h["c-late"].open_items] == ["2026-10-21", "2026-11-04", "2026-11-18"]
    k = report.kpis
    assert (k.total_owed, k.customers_with_balance, k.customers) == (316000, 4, 4)
    # overdue = unpaid for more than 30 days: Luis's purchase of 2026-10-21 and all of Pedro's
    assert k.overdue == 62000 + 60000


def test_fifo_ageing_refunds_and_days_to_repay(any_engine: Engine) -> None:
    b = Builder()
    s1 = b.sale("c-x", day(40), 10000)  # local 2026-10-12
    s2 = b.sale("c-x", day(38), 20000)  # 2026-10-14
    b.sale("c-x", day(37), -5000, status="refunded", refund_of=s2)  # 50 of s2 taken back
    b.repay("c-x", day(30), 12000)  # 2026-10-22: pays s1 (100) in full, 20 of s2
    b.repay("c-x", day(20), 13000)  # 2026-11-01: the rest of s2 (200 - 50 - 20 = 130)
    b.sale("c-x", day(19), 30000)  # 2026-11-02
    b.sale("c-x", day(5), 15000, method="cash", parts=[("cash", 5000), ("credit", 10000)])  # split: 100 on credit
    b.repay("c-x", day(2), 4000)  # pays 40 of the 2026-11-02 purchase
    b.customer("c-x", "Xavier Example", 100000)
    b.write(any_engine)
    h = credit_report(any_engine, "s-cr", as_of=NOW).histories["c-x"]
    assert h.balance == 10000 + 20000 - 5000 - 12000 - 13000 + 30000 + 10000 - 4000 == 36000
    assert [(p.ref, p.day, p.paid_day, p.days_to_repay) for p in h.paid_items] == [
        (s1, "2026-10-12", "2026-10-22", 10), (s2, "2026-10-14", "2026-11-01", 18)]
    assert [(i.day, i.amount, i.outstanding, i.age_days) for i in h.open_items] == [
        ("2026-11-02", 30000, 26000, 19), ("2026-11-16", 10000, 10000, 5)]
    assert h.oldest_unpaid_days == 19 and h.avg_days_to_repay == 14
    assert [e.kind for e in h.ledger] == ["sale", "sale", "refund", "repayment", "repayment", "sale", "sale",
                                          "repayment"]
    assert [e.balance for e in h.ledger][-1] == 36000


def test_device_balance_wins_with_earlier_debt_or_unseen_repayment(any_engine: Engine) -> None:
    b = Builder()
    b.sale("c-old", day(20), 30000)
    b.customer("c-old", "Olga Older", 100000, balance=50000, updated_at=day(20))  # 200 owed before the hub's records
    b.sale("c-paid", day(20), 30000)
    b.sale("c-paid", day(10), 10000)
    # the device says 250: a repayment of 150 the hub has not received yet (applied FIFO)
    b.customer("c-paid", "Pablo Paid", 100000, balance=25000, updated_at=day(4))
    b.write(any_engine)
    h = credit_report(any_engine, "s-cr", as_of=NOW).histories
    old = h["c-old"]
    assert old.balance == 50000 and old.ledger_balance == 30000
    assert [(i.outstanding, i.earlier, i.age_days) for i in old.open_items] == [(20000, True, 20), (30000, False, 20)]
    assert old.ledger[0].kind == "earlier_balance"
    paid = h["c-paid"]
    assert paid.balance == 25000
    assert [(i.day, i.outstanding) for i in paid.open_items] == [("2026-11-01", 15000), ("2026-11-11", 10000)]
    assert paid.ledger[-1].kind == "unrecorded_repayment" and paid.ledger[-1].amount == -15000


def test_predicted_payment_dates(credit_engine: Engine) -> None:
    p = credit_report(credit_engine, "s-cr", as_of=NOW).predictions
    # Rosa repays every 7 days, last on 2026-11-17 -> 2026-11-24, sure of it
    assert (p["c-rel"].predicted_date, p["c-rel"].basis, p["c-rel"].confidence) == ("2026-11-24", "customer", "high")
    # Luis every 14 days, last on 2026-11-18 -> 2026-12-02
    assert (p["c-late"].predicted_date, p["c-late"].confidence) == ("2026-12-02", "high")
    # Nina has no repayment: the store's median days-to-repay (10) after her oldest purchase (2026-11-15)
    assert (p["c-new"].predicted_date, p["c-new"].basis, p["c-new"].confidence) == ("2026-11-25", "store", "low")
    # Pedro is 84 days late on his weekly rhythm: not before another week, and unsure
    assert (p["c-stop"].predicted_date, p["c-stop"].late_days, p["c-stop"].confidence) == ("2026-11-28", 84, "low")
    for pred in p.values():
        assert pred.earliest <= pred.predicted_date <= pred.latest
        assert pred.earliest >= "2026-11-21"


def test_collections_priority_order_and_ties(any_engine: Engine) -> None:
    b = Builder()
    for cid, name in (("c-a", "Ana Alpha"), ("c-b", "Beto Beta")):
        for k in range(6):  # identical histories except what is owed now
            at = day(200 - 30 * k)
            b.sale(cid, at, 10000)
            b.repay(cid, at + timedelta(days=3), 10000)
        b.customer(cid, name, 1000000)
    b.sale("c-a", day(12), 20000)  # 200 owed for 12 days: age weight 1.4
    b.sale("c-b", day(0.1), 28000)  # 280 owed since today: weight 1 (same score: the same factors)
    b.write(any_engine)
    report = credit_report(any_engine, "s-cr", as_of=NOW)
    rows = report.priority
    assert report.scores["c-a"].score == report.scores["c-b"].score
    assert rows[0].priority == rows[1].priority
    assert [r.customer_id for r in rows] == ["c-a", "c-b"]  # the older debt goes first
    assert "older debt first (12 vs 0 days)" in rows[0].tie_break
    assert rows[1].tie_break.startswith("same priority as Ana Alpha")


def test_priority_of_the_four(credit_engine: Engine) -> None:
    rows = credit_report(credit_engine, "s-cr", as_of=NOW).priority
    assert [r.customer_id for r in rows] == ["c-late", "c-stop", "c-new", "c-rel"]
    assert rows[0].priority == round(1860 * 0.75 * (1 + 31 / 30), 1)
    assert "RD$1,860.00 owed × risk 75" in rows[0].why


def test_device_reminders_shape(credit_engine: Engine) -> None:
    out = device_reminders(credit_engine, "s-cr", limit=3, as_of=NOW)
    assert [r["customer_id"] for r in out] == ["c-late", "c-stop", "c-new"]
    for r in out:
        assert set(r) == {"customer_id", "name", "balance", "currency", "priority", "predicted_payment_date",
                          "message"}
        assert isinstance(r["balance"], int) and r["currency"] == "DOP" and len(r["message"]) <= 160
    assert out[0]["message"].startswith("Hi Luis,") and "RD$1,860.00" in out[0]["message"]
    assert out[0]["predicted_payment_date"] == "2026-12-02"
    assert device_reminders(credit_engine, "s-cr", limit=0, as_of=NOW) == []


def test_device_reminders_in_the_store_language(any_engine: Engine) -> None:
    b = Builder()
    b.sale("c-1", day(12), 45000)
    b.customer("c-1", "Marta Gómez", 100000)
    b.write(any_engine, settings={"language": "es-DO"})
    (r,) = device_reminders(any_engine, "s-cr", as_of=NOW)
    assert r["message"].startswith("Hola Marta,") and "RD$450.00" in r["message"]
