-- Which templates were sent while blocked (rejected, paused, disabled or pending at send time)?
-- WhatsApp refuses them, so each such send is a customer the team believes it reached and did
-- not. The status at send time is the latest status row with changed_at <= sent_at.
-- Output: template_name, status_at_send, blocked_sends, conversations, last_sent_at.
WITH sends AS (
  SELECT message_id, conversation_id, template_name, sent_at
  FROM messages
  WHERE kind = 'template' AND sender IN ('bot', 'agent') AND template_name IS NOT NULL
),
status_then AS (
  SELECT s.message_id, s.conversation_id, s.template_name, s.sent_at, t.status,
         ROW_NUMBER() OVER (PARTITION BY s.message_id ORDER BY t.changed_at DESC, t.source_row DESC) AS latest
  FROM sends s
  JOIN templates t ON t.template_name = s.template_name
  WHERE t.changed_at <= s.sent_at
)
SELECT template_name, status AS status_at_send, COUNT(*) AS blocked_sends,
       COUNT(DISTINCT conversation_id) AS conversations, MAX(sent_at) AS last_sent_at
FROM status_then
WHERE latest = 1 AND status IN ('rejected', 'paused', 'disabled', 'pending')
GROUP BY template_name, status
ORDER BY blocked_sends DESC, template_name
