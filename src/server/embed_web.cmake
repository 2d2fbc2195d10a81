# Turns the dashboard's web/ files into a C++ source of byte arrays (run with cmake -P).
#   -DOUTPUT=<generated .cpp> -DFILES=<file|file|...>
string(REPLACE "|" ";" FILES "${FILES}")
set(body "")
set(table "")
set(i 0)
foreach(f IN LISTS FILES)
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" len)
  math(EXPR size "${len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  string(APPEND body "const unsigned char kAsset${i}[] = {\n${bytes}0x00};\n")
  string(APPEND table "    {\"${name}\", kAsset${i}, ${size}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from web/ by src/server/embed_web.cmake: do not edit.
#include \"server/assets.hpp\"

namespace compe::server {
namespace {
${body}
const Asset kAssets[] = {
${table}};
}  // namespace

const Asset* find_asset(std::string_view name) {
  for (const auto& a : kAssets)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace compe::server
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
