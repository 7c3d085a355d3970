# Antarmuka Sigap, Bahasa Indonesia.
app-name = Sigap
app-tagline = Manajemen layanan TI
skip-to-content = Langsung ke isi

nav-home = Beranda
nav-people = Orang
nav-groups = Grup
nav-organizations = Organisasi
nav-api-docs = API
nav-profile = Profil
nav-sign-out = Keluar
nav-main-label = Navigasi utama
nav-user-label = Akun Anda
lang-label = Bahasa
lang-en = English
lang-id = Bahasa Indonesia
signed-in-as = Masuk sebagai { $name }

login-title = Masuk
login-intro = Masuk ke layanan bantuan (service desk).
login-login = Nama pengguna
login-password = Kata sandi
login-submit = Masuk
login-bad = Nama pengguna atau kata sandi salah.
login-locked = Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam { $minutes } menit.
signed-out = Anda telah keluar.

home-title = Beranda
home-welcome = Selamat datang, { $name }
home-my-groups = Grup Anda
home-no-groups = Anda belum menjadi anggota grup dukungan mana pun.
home-managed = Grup yang Anda kelola
home-members = { $count } anggota
home-tokens-expiring = Token API yang kedaluwarsa dalam dua minggu
home-requester-intro = Nama, surel, bahasa, zona waktu, kata sandi, dan token API Anda ada di Profil.
home-admin-title = Status sistem
home-people = Orang
home-admins = Administrator aktif
home-jobs-queued = Pekerjaan menunggu
home-jobs-running = Pekerjaan berjalan
home-jobs-failed = Pekerjaan gagal
home-audit-entries = Entri log audit
home-groups-no-manager = Grup tanpa manajer
home-groups-no-members = Grup tanpa anggota
home-all-good = Tidak ada yang memerlukan perhatian Anda.
home-organization = Organisasi Anda

people-title = Orang
people-new = Orang baru
people-empty = Tidak ada orang yang cocok.
person-title = Orang
groups-title = Grup dukungan
groups-new = Grup baru
groups-empty = Tidak ada grup yang cocok.
group-title = Grup
orgs-title = Organisasi
orgs-new = Organisasi baru
orgs-empty = Tidak ada organisasi yang cocok.
org-title = Organisasi
org-people = Orang di organisasi ini

field-login = Nama pengguna
field-name = Nama
field-email = Surel
field-locale = Bahasa
field-time-zone = Zona waktu
field-active = Aktif
field-organization = Organisasi
field-roles = Peran
field-password = Kata sandi
field-type = Jenis
field-kind = Jenis
field-description = Deskripsi
field-manager = Manajer
field-manager-hint = Nama pengguna manajer grup
field-members = Anggota
field-member-login = Nama pengguna orang yang ditambahkan
field-search = Cari
field-status = Status
field-created = Dibuat
field-updated = Diperbarui
field-version = Versi
field-scope = Cakupan
field-expires = Kedaluwarsa pada
field-last-used = Terakhir dipakai
field-current-password = Kata sandi saat ini
field-new-password = Kata sandi baru
field-none = (tidak ada)
field-any = Semua

role-requester = Pemohon
role-agent = Agen
role-manager = Manajer
role-admin = Administrator
role-approver = Pemberi persetujuan
role-cab_member = Anggota CAB
role-portfolio_manager = Manajer portofolio

kind-provider = Penyedia
kind-customer = Pelanggan
kind-supplier = Pemasok

group-type-service_desk = Service desk
group-type-technical = Teknis
group-type-application = Aplikasi
group-type-it_operations = Operasi TI

scope-read = Hanya baca
scope-read_write = Baca dan tulis

status-active = Aktif
status-inactive = Tidak aktif
status-revoked = Dicabut
status-expired = Kedaluwarsa

action-save = Simpan
action-create = Buat
action-filter = Saring
action-next-page = Halaman berikutnya
action-first-page = Halaman pertama
action-delete = Hapus
action-remove = Keluarkan
action-add = Tambah
action-revoke = Cabut
action-set-password = Atur kata sandi
action-change-password = Ganti kata sandi
action-create-token = Buat token
action-back = Kembali
action-copy = Salin
action-copied = Tersalin
confirm-delete = Hapus secara permanen? Tindakan ini tidak dapat dibatalkan.
confirm-revoke = Cabut token ini? Program yang memakainya akan berhenti bekerja.

history-title = Riwayat
history-empty = Belum ada perubahan tercatat.
history-when = Kapan
history-who = Siapa
history-action = Tindakan
history-changes = Perubahan
history-create = dibuat
history-update = diubah
history-delete = dihapus

profile-title = Profil Anda
profile-saved = Profil Anda tersimpan.
profile-password-title = Kata sandi
profile-password-changed = Kata sandi Anda telah diganti. Sesi Anda yang lain telah dikeluarkan.
profile-tokens-title = Token API
profile-tokens-intro = Token memungkinkan skrip dan program lain memakai API atas nama Anda. Kirim sebagai "Authorization: Bearer TOKEN".
profile-tokens-empty = Anda belum memiliki token API.
profile-token-created = Token baru Anda ditampilkan di bawah, satu kali saja. Salin sekarang: token ini tidak dapat ditampilkan lagi.
profile-token-revoked = Token telah dicabut.

saved = Tersimpan.
created = Dibuat.
deleted = Dihapus.
member-added = Anggota ditambahkan.
member-removed = Anggota dikeluarkan.
password-set = Kata sandi telah diatur dan sesi orang tersebut telah diakhiri.

error-title = Terjadi kesalahan
error-not-found = Halaman atau data ini tidak ada, atau Anda tidak boleh melihatnya.
error-forbidden = Anda tidak diizinkan melakukan ini.
error-conflict = Ini bertentangan dengan data yang ada: { $detail }
error-stale = Orang lain mengubah data ini saat Anda menyuntingnya. Muat ulang lalu coba lagi.
error-unavailable = Layanan sedang sibuk. Coba lagi sebentar lagi.
error-internal = Terjadi kesalahan internal. Kesalahan ini telah dicatat.
error-invalid = Beberapa isian perlu diperbaiki.
error-in-use = Data ini masih dipakai oleh data lain.
error-last-admin = Ini administrator aktif terakhir; sisakan setidaknya satu.
error-exists = Data dengan { $field } ini sudah ada.

err-required = { $field }: wajib diisi.
err-too_long = { $field }: terlalu panjang.
err-too_short = { $field }: terlalu pendek (minimal 10 karakter).
err-invalid_email = { $field }: bukan alamat surel yang sah.
err-invalid_characters = { $field }: berisi karakter yang tidak diizinkan.
err-invalid_length = { $field }: harus 2 sampai 64 karakter.
err-invalid_choice = { $field }: bukan salah satu pilihan.
err-invalid_time_zone = { $field }: zona waktu tidak dikenal (misalnya Asia/Jakarta).
err-not_found = { $field }: tidak ditemukan.
err-wrong_password = { $field }: bukan kata sandi Anda saat ini.
err-invalid_time = { $field }: bukan tanggal yang sah.
err-in_the_past = { $field }: harus di masa depan.
err-other = { $field }: { $message }

page-footer = Sigap, manajemen layanan TI sumber terbuka
