# Surel yang Sigap kirim: kata-kata di sekitar isi notifikasi, dan balasan otomatis untuk
# surel yang diterima.

mail-greeting = Halo { $name },
mail-open = Buka di Sigap
mail-footer-task = Balas surel ini untuk menulis ke { $number }; biarkan nomornya tetap di subjek.
mail-footer = Surel ini dikirim oleh Sigap.
mail-preferences = Anda dapat memilih surel mana yang Anda terima: { $link }
mail-acknowledge-subject = Diterima: { $title }
mail-acknowledge = Pesan Anda sudah kami terima dan dicatat sebagai { $number }. Service desk akan menjawab lewat surel; untuk menambahkan sesuatu, balas surel ini.
mail-unknown-sender-subject = Pesan Anda tidak diterima: { $title }
mail-unknown-sender = Service desk hanya menerima pesan dari alamat yang dikenalnya. Silakan gunakan portal, atau minta service desk menambahkan alamat Anda.
mail-resolved-refused-subject = { $number } sudah diselesaikan: { $title }
mail-resolved-refused = { $number } sudah diselesaikan, dan balasan lewat surel tidak membukanya kembali. Jika masalahnya muncul lagi, silakan tulis pesan baru tanpa nomor di subjek.
