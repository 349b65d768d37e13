-- Which VIP fast-lane customers waited more than 30 seconds for a specialist?
-- Output: conversation_id, segment, tts_s, specialist_at, owner.
SELECT conversation_id, segment, tts_s, specialist_at, COALESCE(owner, '(queue)') AS owner
FROM facts
WHERE lane = 'vip_fast_lane' AND tts_s > 30
ORDER BY tts_s DESC, conversation_id
