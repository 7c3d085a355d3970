-- Issue 15: a clock is breached from its due instant on, and a stopped clock is achieved only
-- when it stopped strictly before it. The engine used to call a clock breached only once its
-- business time exceeded the target; business time does not grow outside business hours, so
-- a target reached at a closing time (or a stop exactly at the due instant) was judged
-- achieved. For a clock that no longer runs, "stopped at or after the due instant" is
-- "business time at least the target", which the stored business time answers exactly
-- (whole seconds of target against microseconds run).
--
-- Stopped clocks judged achieved that reached their target: breached. The compliance report
-- counts them from here on.
UPDATE sla_clock SET stage = 'breached', breached = 1
WHERE stage = 'achieved' AND end_kind IS NOT NULL AND business_us >= duration_secs * 1000000;

-- Live clocks paused after reaching their target: breached. Their stored stage stays
-- 'paused', which is what tells the engine a live clock is paused.
UPDATE sla_clock SET breached = 1
WHERE ended_at IS NULL AND stage = 'paused' AND breached = 0
  AND business_us >= duration_secs * 1000000;

-- Live clocks that were paused after their breach kept the stage 'breached', so the engine
-- took them for running and never resumed them: their stored stage is 'paused' again.
UPDATE sla_clock SET stage = 'paused'
WHERE ended_at IS NULL AND stage = 'breached'
  AND (SELECT e.kind FROM sla_clock_event e
       WHERE e.clock_id = sla_clock.id AND e.kind IN ('started', 'paused', 'resumed')
       ORDER BY e.seq DESC LIMIT 1) = 'paused';
