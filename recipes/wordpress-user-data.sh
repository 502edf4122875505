#!/bin/sh
# The WordPress server's user data. A guest that has WordPress (the debian-wordpress profile)
# sets it up itself at first boot, and Ferry installs the site over HTTP: nothing to do here.
# The busybox guest gets a WordPress-like static blog: busybox httpd serves /var/www/blog;
# each post is a file under /var/www/blog/posts, written inside the guest by the publish CGI script.
set -e
if [ -d /usr/share/wordpress ]; then
  echo "WordPress is installed: the image's first-boot setup prepares it"
  exit 0
fi
site=/var/www/blog
mkdir -p $site/posts $site/cgi-bin

cat > $site/cgi-bin/render <<'RENDER'
#!/bin/sh
# Rebuilds index.html from the post files, newest first.
site=/var/www/blog
{
  echo '<!doctype html><html><head><meta charset="utf-8"><title>Ferry Blog</title></head><body>'
  echo '<h1>Ferry Blog</h1>'
  echo "<p>Served by $(hostname).</p><ul>"
  for f in $(ls -r $site/posts/*.txt 2>/dev/null); do
    slug=$(basename "$f" .txt)
    title=$(head -n 1 "$f")
    echo "<li><a href=\"/posts/$slug.txt\">$title</a></li>"
  done
  echo '</ul></body></html>'
} > $site/index.html.new
mv $site/index.html.new $site/index.html
RENDER

cat > $site/cgi-bin/publish <<'PUBLISH'
#!/bin/sh
# POST title=...&body=... (form encoded): writes a post file, re-renders the index.
site=/var/www/blog
if [ "$REQUEST_METHOD" != POST ]; then
  printf 'Status: 405 Method Not Allowed\r\nContent-Type: text/plain\r\n\r\nPOST title=...&body=...\n'; exit 0
fi
form=$(head -c "${CONTENT_LENGTH:-0}")
field() { echo "$form" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1 | tr '+' ' '; }
title=$(httpd -d "$(field title)")
body=$(httpd -d "$(field body)")
if [ -z "$title" ]; then
  printf 'Status: 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nA post needs a title.\n'; exit 0
fi
slug=$(date +%Y%m%d%H%M%S)-$(echo "$title" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | tr -s '-' | cut -c1-40)
slug=${slug%-}
printf '%s\n\n%s\n' "$title" "$body" > $site/posts/$slug.txt
$site/cgi-bin/render
sync
printf 'Status: 201 Created\r\nLocation: /posts/%s.txt\r\nContent-Type: text/plain\r\n\r\n/posts/%s.txt\n' "$slug" "$slug"
PUBLISH
chmod 755 $site/cgi-bin/render $site/cgi-bin/publish

cat > /etc/boot.d/50-blog <<'BOOT'
#!/bin/sh
/var/www/blog/cgi-bin/render
httpd -p 80 -h /var/www/blog
BOOT
chmod 755 /etc/boot.d/50-blog
/etc/boot.d/50-blog
