-- Where do misroutes come from and go to? Corrections by entry intent and lane move.
-- A correction is an assignment with reason wrong_queue, or a move with no reason between two
-- different specialist lanes of the same tier.
-- Output: intent, from_lane, to_lane, corrections, conversations.
WITH ordered AS (
  SELECT a.conversation_id, a.lane, a.reason, l.tier,
         LAG(a.lane) OVER (PARTITION BY a.conversation_id ORDER BY a.assigned_at, a.source_row) AS from_lane,
         LAG(l.tier) OVER (PARTITION BY a.conversation_id ORDER BY a.assigned_at, a.source_row) AS from_tier
  FROM assignments AS a
  LEFT JOIN lanes AS l ON a.lane = l.lane
),
corrections AS (
  SELECT o.conversation_id, o.from_lane, o.lane AS to_lane
  FROM ordered AS o
  WHERE o.from_lane IS NOT NULL AND o.from_lane <> o.lane
    AND (o.reason = 'wrong_queue'
         OR (o.reason IS NULL AND o.tier IN ('L2', 'L3') AND o.tier = o.from_tier))
)
SELECT COALESCE(c.intent, 'unknown') AS intent, k.from_lane, k.to_lane,
       COUNT(*) AS corrections, COUNT(DISTINCT k.conversation_id) AS conversations
FROM corrections AS k
JOIN conversations AS c ON c.conversation_id = k.conversation_id
GROUP BY 1, 2, 3
ORDER BY corrections DESC, intent, k.from_lane, k.to_lane
