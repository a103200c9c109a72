; Inno Setup script for Neural Face Editor on Windows.
;
; NOT BUILT HERE: the Linux machines that build and test the .deb cannot run it. On Windows:
;
;   python -m pip install -e .[dev]
;   pyinstaller installer\nfe.spec             ; the app folder: dist\nfe-desktop\
;   iscc /DAppVersion=0.1.0 installer\windows\nfe-desktop.iss
;
; AppVersion should be nfe_core.__version__ (python -c "import nfe_core; print(nfe_core.__version__)").
; The installer lands in dist\nfe-desktop-<version>-windows-setup.exe; it installs per user
; (no administrator rights needed), adds a Start-menu entry and an uninstaller.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Neural Face Editor"
#define AppExe "nfe-desktop.exe"
#define SourceDir "..\..\dist\nfe-desktop"

[Setup]
AppId={{6F0C2B1E-9B7A-4C55-9E3D-0A1B2C3D4E5F}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=The NFE developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=nfe-desktop-{#AppVersion}-windows-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
