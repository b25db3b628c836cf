# A CMakeLists.txt around the README's CMake lines (example `cmake`): the program is the README's
# first C program (app.c).
cmake_minimum_required(VERSION 3.16)
project(app C)
add_executable(app app.c)
@README@
