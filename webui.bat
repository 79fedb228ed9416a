@echo off
rem ##################################################
rem # Please do not make any changes to this file,  #
rem # change the variables in webui-user.bat instead #
rem ##################################################
rem Windows launcher: finds Python 3.10-3.12, creates and activates the venv, runs launch.py (which installs what
rem is missing, then starts the web UI) and starts it again while tmp\restart exists.

setlocal
cd /d "%~dp0"

if defined GIT set "GIT_PYTHON_GIT_EXECUTABLE=%GIT%"
if not defined VENV_DIR set "VENV_DIR=%~dp0venv"
set "VENV_DIR=%VENV_DIR:"=%"
set "SD_WEBUI_RESTART=tmp/restart"

mkdir tmp 2>NUL

if defined PYTHON goto :check_python
call :try_python python
if not defined PYTHON call :try_python "py -3.11"
if not defined PYTHON call :try_python "py -3.12"
if not defined PYTHON call :try_python "py -3.10"
if defined PYTHON goto :start_venv
echo Couldn't find Python 3.10, 3.11 or 3.12.
echo Install Python 3.11 from python.org and tick "Add python.exe to PATH",
echo or set PYTHON=C:\path\to\python.exe in webui-user.bat.
goto :fail

:check_python
%PYTHON% -c "" >tmp\stdout.txt 2>tmp\stderr.txt
if %ERRORLEVEL% == 0 goto :check_python_version
echo Couldn't launch python: PYTHON=%PYTHON%
goto :show_stdout_stderr

:check_python_version
%PYTHON% -c "import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)"
if %ERRORLEVEL% NEQ 0 echo WARNING: PYTHON=%PYTHON% is not Python 3.10-3.12; continuing as asked.

:start_venv
if "%VENV_DIR%" == "-" goto :launch
if exist "%VENV_DIR%\Scripts\python.exe" goto :activate_venv
echo Creating venv in directory %VENV_DIR% using python %PYTHON%
%PYTHON% -m venv "%VENV_DIR%" >tmp\stdout.txt 2>tmp\stderr.txt
if %ERRORLEVEL% == 0 goto :activate_venv
echo Unable to create venv in directory "%VENV_DIR%"
goto :show_stdout_stderr

:activate_venv
call "%VENV_DIR%\Scripts\activate.bat"
set PYTHON="%VENV_DIR%\Scripts\python.exe"
echo venv %PYTHON%

:launch
if exist tmp\restart del /q tmp\restart
%PYTHON% launch.py %*
set "EXIT_CODE=%ERRORLEVEL%"
if exist tmp\restart goto :launch
if "%EXIT_CODE%" == "0" exit /b 0
echo.
echo Launch unsuccessful (exit code %EXIT_CODE%): see the messages above.
pause
exit /b %EXIT_CODE%

:show_stdout_stderr
echo.
echo stdout:
type tmp\stdout.txt
echo.
echo stderr:
type tmp\stderr.txt

:fail
echo.
echo Launch unsuccessful. Exiting.
pause
exit /b 1

rem Subroutine: set PYTHON to the given command if it runs Python 3.10-3.12.
:try_python
%~1 -c "import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)" >NUL 2>&1
if %ERRORLEVEL% == 0 set "PYTHON=%~1"
exit /b 0
