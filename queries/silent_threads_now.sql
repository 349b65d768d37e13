-- Which open WhatsApp threads have been silent for more than 20 hours at as_of, and who owns them?
-- Output: conversation_id, lane, owner, hours_silent, opened_at (longest silence first).
SELECT conversation_id, lane, COALESCE(owner, '(queue)') AS owner,
       ROUND(hours_silent, 1) AS hours_silent, opened_at
FROM facts
WHERE channel = 'whatsapp' AND hours_silent > 20
ORDER BY hours_silent DESC, conversation_id
