# Apa yang Sigap beritahukan kepada seseorang, di aplikasi dan lewat surel: satu pesan per
# jenis notifikasi (`notification-<kind>`), dengan $subject (catatannya) dan $body.

notification-service_review_due = Tinjauan { $subject } jatuh tempo ({ $body }).
notification-incident_comment = { $subject }: pesan baru dari service desk.
notification-incident_caller_replied = { $subject }: pelapor membalas.
notification-incident_resolved = { $subject } sudah diselesaikan. Mohon konfirmasi.
notification-incident_closed = { $subject } sudah ditutup.
notification-incident_awaiting_you = { $subject }: service desk menunggu jawaban Anda.
notification-incident_reopened = { $subject } dibuka kembali oleh pelapor.
notification-incident_assigned = { $subject } ditugaskan kepada Anda.
notification-incident_queued = { $subject } menunggu di antrean grup Anda.
notification-incident_major = Insiden mayor: { $subject }
notification-incident_escalated = { $subject } dieskalasikan kepada Anda.
notification-sla_threshold = { $subject }: { $body } waktu SLA sudah terpakai.
notification-sla_owner = { $subject }: { $body } waktu SLA sudah terpakai pada layanan milik Anda.
notification-approval_requested = { $subject }: persetujuan Anda diminta.
notification-approval_reminder = { $subject } masih menunggu persetujuan Anda.
notification-request_comment = { $subject }: pesan baru dari service desk.
notification-request_closed_complete = { $subject } sudah lengkap.
notification-request_closed_incomplete = { $subject } ditutup; tidak semua terpenuhi.
notification-request_canceled = { $subject } dibatalkan.
notification-request_assigned = { $subject } ditugaskan kepada Anda.
notification-request_queued = { $subject } menunggu di antrean grup Anda.
notification-request_item_comment = { $subject }: pesan baru dari service desk.
notification-request_item_complete = { $subject } sudah dipenuhi.
notification-request_item_rejected = { $subject } tidak disetujui.
notification-request_item_canceled = { $subject } dibatalkan.
notification-request_item_assigned = { $subject } ditugaskan kepada Anda.
notification-request_item_queued = { $subject } menunggu di antrean grup Anda.
notification-catalog_task_assigned = { $subject } ditugaskan kepada Anda.
notification-catalog_task_queued = { $subject } menunggu di antrean grup Anda.
notification-kb_review_due = { $subject }: tanggal tinjauannya sudah dekat.
notification-kb_feedback_attention = { $subject }: seorang pembaca melaporkannya atau memberinya nilai rendah.
notification-report_delivery = { $subject }: laporan terjadwal Anda terlampir ({ $body }).
